import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { SecretsError, SecretsErrorCode } from './secrets.error';

const MASTER_KEY_BYTES = 32;
/** 96-bit IVs are what GCM is designed for; random per encryption, never reused with a key. */
const IV_BYTES = 12;
const AUTH_TAG_BYTES = 16;
const FORMAT_VERSION = 'v1';
const KEY_ID_PATTERN = /^[0-9a-f]{8}$/;
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const HEX_MASTER_KEY = /^[0-9a-fA-F]{64}$/;
const BASE64_MASTER_KEY = /^[A-Za-z0-9+/_-]{43}=?$/;
/** Signing secrets are at most a few hundred bytes; anything far larger is not ours. */
const MAX_CIPHERTEXT_LENGTH = 16_384;
/** Domain separation: the key id is a hash of the key, but never the same hash another use would compute. */
const KEY_ID_LABEL = 'skyhook/secret-cipher/key-id/v1\0';

/** Environment variables {@link secretCipherFromEnvironment} reads. */
export const SECRET_CIPHER_ENVIRONMENT = {
  primaryKey: 'SECRETS_MASTER_KEY',
  previousKeys: 'SECRETS_PREVIOUS_MASTER_KEYS',
} as const;

/**
 * Decodes a 32-byte master key given as 64 hex characters or as base64 (standard or URL-safe,
 * padding optional). Hex is tried first because 64 hex characters are also valid base64 of a
 * different length. The message never contains the key.
 */
export function parseMasterKey(encoded: string): Buffer {
  const trimmed = encoded.trim();
  if (HEX_MASTER_KEY.test(trimmed)) {
    return Buffer.from(trimmed, 'hex');
  }
  if (BASE64_MASTER_KEY.test(trimmed)) {
    const key = Buffer.from(trimmed.replace(/=$/, ''), 'base64url');
    if (key.length === MASTER_KEY_BYTES) {
      return key;
    }
  }
  throw new SecretsError(
    SecretsErrorCode.InvalidMasterKey,
    `master key must be ${MASTER_KEY_BYTES} bytes given as 64 hex characters or as base64 (e.g. \`openssl rand -base64 32\`)`,
  );
}

/**
 * The id a ciphertext names its key by: the first 8 hex characters of SHA-256 over a fixed
 * label and the key. Derived rather than configured so that an operator rotating keys only
 * moves the old key into the previous-keys list and can never mislabel one; 32 bits of a hash
 * of a 256-bit random key reveal nothing usable about it.
 */
export function masterKeyId(key: Buffer): string {
  return createHash('sha256').update(KEY_ID_LABEL).update(key).digest('hex').slice(0, 8);
}

/**
 * Encrypts signing secrets at rest with AES-256-GCM. Output: `v1.<keyId>.<iv>.<tag>.<ciphertext>`
 * (base64url parts). Encrypts with the primary key; decrypts with whichever configured key the
 * ciphertext names, so ciphertexts written before a rotation keep decrypting while the old key
 * stays configured (re-encrypt them, see {@link SecretCipher.isEncryptedWithPrimaryKey}, then
 * drop it).
 *
 * The optional `context` (e.g. the subscription id) is bound in as associated data: a
 * ciphertext copied onto another row fails to decrypt there. The version and key id are bound
 * in too, so the readable header cannot be altered either.
 */
export class SecretCipher {
  private readonly keysById: ReadonlyMap<string, Buffer>;
  readonly primaryKeyId: string;

  constructor(primaryKey: Buffer, previousKeys: readonly Buffer[] = []) {
    const keysById = new Map<string, Buffer>();
    for (const key of [primaryKey, ...previousKeys]) {
      if (key.length !== MASTER_KEY_BYTES) {
        throw new SecretsError(
          SecretsErrorCode.InvalidMasterKey,
          `master key must be ${MASTER_KEY_BYTES} bytes`,
        );
      }
      const keyId = masterKeyId(key);
      if (keysById.has(keyId)) {
        throw new SecretsError(
          SecretsErrorCode.DuplicateMasterKey,
          `master key ${keyId} is configured more than once`,
        );
      }
      keysById.set(keyId, Buffer.from(key));
    }
    this.keysById = keysById;
    this.primaryKeyId = masterKeyId(primaryKey);
  }

  /** Builds a cipher from encoded keys (see {@link parseMasterKey}). */
  static fromEncodedKeys(primary: string, previous: readonly string[] = []): SecretCipher {
    return new SecretCipher(parseMasterKey(primary), previous.map(parseMasterKey));
  }

  encrypt(plaintext: string, context = ''): string {
    const key = this.keyFor(this.primaryKeyId);
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: AUTH_TAG_BYTES });
    cipher.setAAD(associatedData(this.primaryKeyId, context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      FORMAT_VERSION,
      this.primaryKeyId,
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      ciphertext.toString('base64url'),
    ].join('.');
  }

  decrypt(sealed: string, context = ''): string {
    const parts = parseSealed(sealed);
    const key = this.keyFor(parts.keyId);
    const decipher = createDecipheriv('aes-256-gcm', key, parts.iv, { authTagLength: AUTH_TAG_BYTES });
    decipher.setAAD(associatedData(parts.keyId, context));
    decipher.setAuthTag(parts.authTag);
    try {
      return Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretsError(
        SecretsErrorCode.DecryptionFailed,
        `secret does not decrypt with master key ${parts.keyId}: altered ciphertext, wrong key or wrong context`,
      );
    }
  }

  /** False for ciphertexts a rotation job should re-encrypt before the old key is dropped. */
  isEncryptedWithPrimaryKey(sealed: string): boolean {
    return parseSealed(sealed).keyId === this.primaryKeyId;
  }

  private keyFor(keyId: string): Buffer {
    const key = this.keysById.get(keyId);
    if (key === undefined) {
      throw new SecretsError(
        SecretsErrorCode.UnknownMasterKey,
        `secret was encrypted with master key ${keyId}, which is not configured`,
      );
    }
    return key;
  }
}

/** Only the two variables are read, so a parsed config object with other types also fits. */
export interface SecretCipherEnvironment {
  readonly SECRETS_MASTER_KEY?: string | undefined;
  readonly SECRETS_PREVIOUS_MASTER_KEYS?: string | undefined;
}

/**
 * Reads `SECRETS_MASTER_KEY` (required) and `SECRETS_PREVIOUS_MASTER_KEYS` (optional,
 * comma-separated) and builds the cipher, naming the variable in any error.
 */
export function secretCipherFromEnvironment(environment: SecretCipherEnvironment): SecretCipher {
  const primary = environment[SECRET_CIPHER_ENVIRONMENT.primaryKey]?.trim() ?? '';
  if (primary === '') {
    throw new SecretsError(
      SecretsErrorCode.InvalidMasterKey,
      `${SECRET_CIPHER_ENVIRONMENT.primaryKey} is required`,
    );
  }
  const previous = (environment[SECRET_CIPHER_ENVIRONMENT.previousKeys] ?? '')
    .split(',')
    .map((encoded) => encoded.trim())
    .filter((encoded) => encoded !== '');
  return new SecretCipher(
    withVariableName(SECRET_CIPHER_ENVIRONMENT.primaryKey, () => parseMasterKey(primary)),
    previous.map((encoded) =>
      withVariableName(SECRET_CIPHER_ENVIRONMENT.previousKeys, () => parseMasterKey(encoded)),
    ),
  );
}

function withVariableName(variable: string, parse: () => Buffer): Buffer {
  try {
    return parse();
  } catch (error: unknown) {
    if (error instanceof SecretsError) {
      throw new SecretsError(error.code, `${variable}: ${error.message}`);
    }
    throw error;
  }
}

interface SealedParts {
  readonly keyId: string;
  readonly iv: Buffer;
  readonly authTag: Buffer;
  readonly ciphertext: Buffer;
}

function parseSealed(sealed: string): SealedParts {
  const malformed = (): SecretsError =>
    new SecretsError(SecretsErrorCode.MalformedCiphertext, 'stored secret is not a v1 ciphertext');
  if (sealed.length > MAX_CIPHERTEXT_LENGTH) {
    throw malformed();
  }
  const [version, keyId, iv, authTag, ciphertext, ...rest] = sealed.split('.');
  if (
    version !== FORMAT_VERSION ||
    keyId === undefined ||
    !KEY_ID_PATTERN.test(keyId) ||
    iv === undefined ||
    authTag === undefined ||
    ciphertext === undefined ||
    rest.length > 0 ||
    ![iv, authTag, ciphertext].every((part) => BASE64URL.test(part))
  ) {
    throw malformed();
  }
  const parts = {
    keyId,
    iv: Buffer.from(iv, 'base64url'),
    authTag: Buffer.from(authTag, 'base64url'),
    ciphertext: Buffer.from(ciphertext, 'base64url'),
  };
  if (parts.iv.length !== IV_BYTES || parts.authTag.length !== AUTH_TAG_BYTES) {
    throw malformed();
  }
  return parts;
}

function associatedData(keyId: string, context: string): Buffer {
  // The key id has a fixed length, so this concatenation is unambiguous.
  return Buffer.from(`${FORMAT_VERSION}.${keyId}.${context}`, 'utf8');
}

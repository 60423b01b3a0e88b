import { randomBytes } from 'node:crypto';
import { SecretsError, SecretsErrorCode } from './secrets.error';
import { SecretCipher, masterKeyId, parseMasterKey, secretCipherFromEnvironment } from './secret-cipher';

function errorCodeOf(action: () => unknown): SecretsErrorCode | undefined {
  try {
    action();
    return undefined;
  } catch (error: unknown) {
    if (error instanceof SecretsError) {
      return error.code;
    }
    throw error;
  }
}

/** Flips one bit of the decoded bytes of one dot-separated part, keeping the format valid. */
function alterOneByte(sealed: string, partIndex: number): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[partIndex] ?? '', 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  parts[partIndex] = bytes.toString('base64url');
  return parts.join('.');
}

const SIGNING_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('parseMasterKey', () => {
  const key = randomBytes(32);

  it.each([
    ['hex', key.toString('hex')],
    ['upper-case hex', key.toString('hex').toUpperCase()],
    ['base64', key.toString('base64')],
    ['base64url without padding', key.toString('base64url')],
  ])('reads a 32-byte key given as %s', (_encoding, encoded) => {
    expect(parseMasterKey(encoded).equals(key)).toBe(true);
  });

  it.each([
    ['16 bytes of hex', randomBytes(16).toString('hex')],
    ['48 bytes of base64', randomBytes(48).toString('base64')],
    ['a passphrase', 'correct horse battery staple'],
    ['nothing', ''],
  ])('rejects %s with a typed error', (_description, encoded) => {
    expect(errorCodeOf(() => parseMasterKey(encoded))).toBe(SecretsErrorCode.InvalidMasterKey);
  });
});

describe('SecretCipher', () => {
  const primaryKey = randomBytes(32);
  const cipher = new SecretCipher(primaryKey);

  it('round-trips a secret', () => {
    expect(cipher.decrypt(cipher.encrypt(SIGNING_SECRET))).toBe(SIGNING_SECRET);
  });

  it('writes v1.<keyId>.<iv>.<tag>.<ciphertext> with a derived key id and base64url parts', () => {
    const sealed = cipher.encrypt(SIGNING_SECRET);
    const [version, keyId, iv, tag, ciphertext] = sealed.split('.');
    expect(version).toBe('v1');
    expect(keyId).toBe(masterKeyId(primaryKey));
    expect(keyId).toMatch(/^[0-9a-f]{8}$/);
    expect(Buffer.from(iv ?? '', 'base64url')).toHaveLength(12);
    expect(Buffer.from(tag ?? '', 'base64url')).toHaveLength(16);
    expect(ciphertext).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(sealed).not.toContain(SIGNING_SECRET.slice(6, 16));
  });

  it('uses a fresh IV every time, so the same secret never encrypts to the same string', () => {
    expect(cipher.encrypt(SIGNING_SECRET)).not.toBe(cipher.encrypt(SIGNING_SECRET));
  });

  it.each([
    ['ciphertext', 4],
    ['authentication tag', 3],
    ['IV', 2],
  ])('a ciphertext altered by one byte (in the %s) fails to decrypt', (_part, partIndex) => {
    const altered = alterOneByte(cipher.encrypt(SIGNING_SECRET), partIndex);
    expect(errorCodeOf(() => cipher.decrypt(altered))).toBe(SecretsErrorCode.DecryptionFailed);
  });

  it('a ciphertext from a key that is not configured fails as an unknown key', () => {
    const other = new SecretCipher(randomBytes(32));
    expect(errorCodeOf(() => cipher.decrypt(other.encrypt(SIGNING_SECRET)))).toBe(
      SecretsErrorCode.UnknownMasterKey,
    );
  });

  it('a ciphertext relabelled with another configured key id fails to decrypt', () => {
    const previousKey = randomBytes(32);
    const rotated = new SecretCipher(primaryKey, [previousKey]);
    const sealed = rotated.encrypt(SIGNING_SECRET);
    const relabelled = sealed.replace(`.${masterKeyId(primaryKey)}.`, `.${masterKeyId(previousKey)}.`);
    expect(errorCodeOf(() => rotated.decrypt(relabelled))).toBe(SecretsErrorCode.DecryptionFailed);
  });

  it('a ciphertext bound to one context does not decrypt under another', () => {
    const sealed = cipher.encrypt(SIGNING_SECRET, 'subscription:sub_1');
    expect(cipher.decrypt(sealed, 'subscription:sub_1')).toBe(SIGNING_SECRET);
    expect(errorCodeOf(() => cipher.decrypt(sealed, 'subscription:sub_2'))).toBe(
      SecretsErrorCode.DecryptionFailed,
    );
  });

  it.each([
    '',
    'not-a-ciphertext',
    'v2.abcdef12.a.b.c',
    'v1.abcdef12.a.b',
    'v1.ABCDEF12.aaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaa.aa',
  ])('rejects the malformed ciphertext %p with a typed error', (sealed) => {
    expect(errorCodeOf(() => cipher.decrypt(sealed))).toBe(SecretsErrorCode.MalformedCiphertext);
  });

  describe('key rotation', () => {
    const oldKey = randomBytes(32);
    const newKey = randomBytes(32);
    const beforeRotation = new SecretCipher(oldKey);
    const afterRotation = new SecretCipher(newKey, [oldKey]);
    const sealedBeforeRotation = beforeRotation.encrypt(SIGNING_SECRET);

    it('a ciphertext from a rotated-out key still decrypts while that key is configured', () => {
      expect(afterRotation.decrypt(sealedBeforeRotation)).toBe(SIGNING_SECRET);
    });

    it('encrypts with the new primary key', () => {
      const sealed = afterRotation.encrypt(SIGNING_SECRET);
      expect(afterRotation.isEncryptedWithPrimaryKey(sealed)).toBe(true);
      expect(afterRotation.isEncryptedWithPrimaryKey(sealedBeforeRotation)).toBe(false);
      expect(errorCodeOf(() => beforeRotation.decrypt(sealed))).toBe(SecretsErrorCode.UnknownMasterKey);
    });

    it('no longer decrypts once the old key is dropped', () => {
      expect(errorCodeOf(() => new SecretCipher(newKey).decrypt(sealedBeforeRotation))).toBe(
        SecretsErrorCode.UnknownMasterKey,
      );
    });

    it('rejects the same key configured twice', () => {
      expect(errorCodeOf(() => new SecretCipher(newKey, [oldKey, newKey]))).toBe(
        SecretsErrorCode.DuplicateMasterKey,
      );
    });
  });

  it('rejects a key that is not 32 bytes', () => {
    expect(errorCodeOf(() => new SecretCipher(randomBytes(16)))).toBe(SecretsErrorCode.InvalidMasterKey);
  });
});

describe('secretCipherFromEnvironment', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  it('reads the primary key and comma-separated previous keys', () => {
    const sealedWithOld = new SecretCipher(oldKey).encrypt(SIGNING_SECRET);
    const cipher = secretCipherFromEnvironment({
      SECRETS_MASTER_KEY: newKey.toString('base64'),
      SECRETS_PREVIOUS_MASTER_KEYS: ` ${oldKey.toString('hex')} ,`,
    });
    expect(cipher.primaryKeyId).toBe(masterKeyId(newKey));
    expect(cipher.decrypt(sealedWithOld)).toBe(SIGNING_SECRET);
  });

  it('names the missing variable', () => {
    expect(() => secretCipherFromEnvironment({})).toThrow(/SECRETS_MASTER_KEY is required/);
  });

  it('names the variable holding an invalid key, without echoing the key', () => {
    const invalid = 'not-a-valid-master-key';
    try {
      secretCipherFromEnvironment({
        SECRETS_MASTER_KEY: newKey.toString('hex'),
        SECRETS_PREVIOUS_MASTER_KEYS: invalid,
      });
      throw new Error('expected a rejection');
    } catch (error: unknown) {
      expect(error).toBeInstanceOf(SecretsError);
      expect((error as SecretsError).code).toBe(SecretsErrorCode.InvalidMasterKey);
      expect((error as SecretsError).message).toMatch(/^SECRETS_PREVIOUS_MASTER_KEYS: /);
      expect((error as SecretsError).message).not.toContain(invalid);
    }
  });
});

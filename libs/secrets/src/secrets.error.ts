import { CodedError } from '@skyhook/contracts';
export enum SecretsErrorCode {
  /** A caller-supplied signing secret breaks the length or character rules. */
  InvalidCallerSecret = 'INVALID_CALLER_SECRET',
  /** A `whsec_` secret whose remainder is not base64, so no Standard Webhooks key can be derived. */
  MalformedSigningSecret = 'MALFORMED_SIGNING_SECRET',
  /** A master key that is not exactly 32 bytes given as hex or base64. */
  InvalidMasterKey = 'INVALID_MASTER_KEY',
  /** Two configured master keys share a key id (usually the same key configured twice). */
  DuplicateMasterKey = 'DUPLICATE_MASTER_KEY',
  /** A stored ciphertext that is not in the `v1.<keyId>.<iv>.<tag>.<ciphertext>` form. */
  MalformedCiphertext = 'MALFORMED_CIPHERTEXT',
  /** A ciphertext that names a key id no configured master key has. */
  UnknownMasterKey = 'UNKNOWN_MASTER_KEY',
  /** Authentication failed: the ciphertext was altered, or the key or context is wrong. */
  DecryptionFailed = 'DECRYPTION_FAILED',
  /** A presented API key that is not in the `sk_<public id>_<secret>` form. */
  MalformedApiKey = 'MALFORMED_API_KEY',
}

/**
 * Every failure of this library. Messages never contain secret material, so they are safe to
 * log and, for the caller-input codes, to return to the client.
 */
export class SecretsError extends CodedError<SecretsErrorCode> {
  constructor(code: SecretsErrorCode, message: string) {
    super(code, message, {});
  }
}

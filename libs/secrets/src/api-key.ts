import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { SecretsError, SecretsErrorCode } from './secrets.error';

export const API_KEY_PREFIX = 'sk_';
/** ~71 bits: unique enough to index by (the store still enforces uniqueness), and not secret. */
export const API_KEY_PUBLIC_ID_LENGTH = 12;
/** 43 base62 characters carry 256 bits of entropy. */
export const API_KEY_SECRET_LENGTH = 43;
/** Base62 keeps `_` free as the separator and the key a single double-click selection. */
const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const API_KEY_PATTERN = new RegExp(
  `^${API_KEY_PREFIX}([0-9A-Za-z]{${API_KEY_PUBLIC_ID_LENGTH}})_[0-9A-Za-z]{${API_KEY_SECRET_LENGTH}}$`,
);
/** Checked before the pattern, so a megabyte-long header costs nothing. */
const API_KEY_MAX_PRESENTED_LENGTH = 128;
const STORED_HASH_PATTERN = /^[0-9a-f]{64}$/;

export interface GeneratedApiKey {
  /** `sk_<public id>_<secret>`: shown to the caller once, never stored. */
  readonly key: string;
  /** Stored in clear and indexed: finds the key's row without scanning. */
  readonly publicId: string;
  /** What is stored: {@link hashApiKey} of `key`. */
  readonly hash: string;
}

export interface ParsedApiKey {
  readonly publicId: string;
}

export function generateApiKey(): GeneratedApiKey {
  const publicId = randomBase62(API_KEY_PUBLIC_ID_LENGTH);
  const key = `${API_KEY_PREFIX}${publicId}_${randomBase62(API_KEY_SECRET_LENGTH)}`;
  return { key, publicId, hash: hashApiKey(key) };
}

/** Reads the public id out of a presented key, or throws a typed error for anything malformed. */
export function parseApiKey(presented: string): ParsedApiKey {
  const match = presented.length <= API_KEY_MAX_PRESENTED_LENGTH ? API_KEY_PATTERN.exec(presented) : null;
  const publicId = match?.[1];
  if (publicId === undefined) {
    throw new SecretsError(SecretsErrorCode.MalformedApiKey, 'API key is malformed');
  }
  return { publicId };
}

/**
 * SHA-256 hex of the whole key. A plain fast hash is the right tool here: slow password
 * hashes (bcrypt, argon2) exist to make guessing low-entropy human passwords expensive, but
 * these keys carry ≥ 256 bits of randomness, which no amount of hashing speed makes guessable,
 * and a fast hash keeps every authenticated request cheap.
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Whether a presented key matches a stored hash, compared in constant time. */
export function apiKeyMatches(presented: string, storedHash: string): boolean {
  if (!STORED_HASH_PATTERN.test(storedHash)) {
    return false;
  }
  return timingSafeEqual(Buffer.from(hashApiKey(presented), 'hex'), Buffer.from(storedHash, 'hex'));
}

function randomBase62(length: number): string {
  let result = '';
  for (let index = 0; index < length; index += 1) {
    // randomInt rejects biased samples, so every character is uniformly distributed.
    result += BASE62_ALPHABET.charAt(randomInt(BASE62_ALPHABET.length));
  }
  return result;
}

import { createHash } from 'node:crypto';
import { SecretsError, SecretsErrorCode } from './secrets.error';
import { apiKeyMatches, generateApiKey, hashApiKey, parseApiKey } from './api-key';

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

describe('API keys', () => {
  it('generates sk_<12-character public id>_<43-character secret> in base62', () => {
    const { key, publicId } = generateApiKey();
    expect(key).toMatch(/^sk_[0-9A-Za-z]{12}_[0-9A-Za-z]{43}$/);
    expect(key.startsWith(`sk_${publicId}_`)).toBe(true);
  });

  it('returns the SHA-256 hex of the key as the hash to store', () => {
    const { key, hash } = generateApiKey();
    expect(hash).toBe(createHash('sha256').update(key).digest('hex'));
    expect(hashApiKey(key)).toBe(hash);
  });

  it('never generates the same key or public id twice', () => {
    const generated = Array.from({ length: 50 }, () => generateApiKey());
    expect(new Set(generated.map(({ key }) => key)).size).toBe(50);
    expect(new Set(generated.map(({ publicId }) => publicId)).size).toBe(50);
  });

  it('parses the public id out of a presented key', () => {
    const { key, publicId } = generateApiKey();
    expect(parseApiKey(key)).toEqual({ publicId });
  });

  it.each([
    ['an empty string', ''],
    ['a different prefix', 'pk_abcdefghijkl_0123456789012345678901234567890123456789012'],
    ['a short public id', 'sk_abcdefghijk_0123456789012345678901234567890123456789012'],
    ['a short secret', 'sk_abcdefghijkl_012345678901234567890123456789'],
    ['a character outside base62', 'sk_abcdefghijk-_0123456789012345678901234567890123456789012'],
    ['trailing whitespace', 'sk_abcdefghijkl_0123456789012345678901234567890123456789012 '],
    ['a megabyte of input', `sk_abcdefghijkl_${'a'.repeat(1_000_000)}`],
  ])('rejects %s as malformed', (_description, presented) => {
    expect(errorCodeOf(() => parseApiKey(presented))).toBe(SecretsErrorCode.MalformedApiKey);
  });

  it('a presented key matches its stored hash', () => {
    const { key, hash } = generateApiKey();
    expect(apiKeyMatches(key, hash)).toBe(true);
  });

  it('an API key with a wrong secret part does not match', () => {
    const { key, hash } = generateApiKey();
    const lastCharacter = key.slice(-1);
    const wrongSecret = key.slice(0, -1) + (lastCharacter === 'a' ? 'b' : 'a');
    expect(apiKeyMatches(wrongSecret, hash)).toBe(false);
  });

  it('does not match against a malformed stored hash', () => {
    const { key } = generateApiKey();
    expect(apiKeyMatches(key, '')).toBe(false);
    expect(apiKeyMatches(key, 'not-a-hash')).toBe(false);
  });
});

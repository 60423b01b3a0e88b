import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Compares two strings (signatures, tokens) without leaking, through timing, where they first
 * differ or how long the expected one is. `crypto.timingSafeEqual` alone throws on inputs of
 * different lengths, and checking the lengths first would leak the length; hashing both sides
 * to fixed-size SHA-256 digests first removes both problems. SHA-256 is collision resistant,
 * so equal digests mean equal strings.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(sha256Of(a), sha256Of(b));
}

function sha256Of(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

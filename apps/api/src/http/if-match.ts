import { ApiError, ApiErrorCode } from './api-error';

/**
 * `If-Match: "3"` (or `3`) makes a command conditional on the version read earlier: a
 * concurrent change answers 409 instead of being silently overwritten.
 */
export function expectedVersionOf(header: unknown): number | undefined {
  if (header === undefined) return undefined;
  const match = typeof header === 'string' ? /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(header) : null;
  if (match?.[1] === undefined) {
    throw new ApiError(ApiErrorCode.ValidationFailed, 'If-Match must be the subscription version, e.g. "3"');
  }
  return Number(match[1]);
}

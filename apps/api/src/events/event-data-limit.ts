import { ApiError, ApiErrorCode } from '../http/api-error';

/**
 * An event's `data` is at most `limitBytes` of JSON (`EVENT_MAX_DATA_BYTES`), wherever the api
 * makes an event from a request: a publish, and a test event with the caller's data. Larger is
 * 413, before anything is recorded or produced.
 */
export function assertEventDataWithinLimit(data: unknown, limitBytes: number): void {
  const size = Buffer.byteLength(JSON.stringify(data));
  if (size > limitBytes) {
    throw new ApiError(
      ApiErrorCode.PayloadTooLarge,
      `event data is ${size} bytes; the limit is ${limitBytes}`,
    );
  }
}

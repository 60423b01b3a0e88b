import { CodedError } from './coded-error';

/** An event's `data` larger than the configured limit (`EVENT_MAX_DATA_BYTES`): the api answers 413. */
export class EventDataTooLargeError extends CodedError<
  'EVENT_DATA_TOO_LARGE',
  { readonly sizeBytes: number; readonly limitBytes: number }
> {
  constructor(sizeBytes: number, limitBytes: number) {
    super('EVENT_DATA_TOO_LARGE', `event data is ${sizeBytes} bytes; the limit is ${limitBytes}`, {
      sizeBytes,
      limitBytes,
    });
  }
}

/**
 * An event's `data` is at most `limitBytes` of JSON, wherever an event is made from a caller's
 * input (a publish, a test event with the caller's data): checked before anything is recorded or
 * produced.
 */
export function assertEventDataWithinLimit(data: unknown, limitBytes: number): void {
  const size = Buffer.byteLength(JSON.stringify(data));
  if (size > limitBytes) throw new EventDataTooLargeError(size, limitBytes);
}

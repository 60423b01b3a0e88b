import { CodedError } from '@skyhook/contracts';
export enum HistoryErrorCode {
  /**
   * A batch of delivery events could not be written (PostgreSQL unreachable, a failed query). The
   * records stay uncommitted and the consumer retries them until the write goes through.
   */
  WriteFailed = 'HISTORY_WRITE_FAILED',
}

/**
 * Failures of the history projector. The message says what failed in one line; the driver's
 * error is kept as the (non-enumerable) `cause`, so logging this error never dumps the query's
 * parameters (delivery requests and their headers) into the logs.
 */
export class HistoryError extends CodedError<HistoryErrorCode> {
  constructor(code: HistoryErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, {}, options);
  }
}

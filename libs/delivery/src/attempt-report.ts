import { type AttemptOutcomeClass } from '@skyhook/contracts';
import { type AttemptOutcome, isSuccessfulOutcome, parseRetryAfterMs } from '@skyhook/delivery-policy';

/** How one POST to an endpoint ended, before any retry decision. */
export type AttemptReport =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly retryAfter: string | undefined;
      readonly bodyExcerpt: string;
      readonly durationMs: number;
    }
  | {
      readonly kind: 'timeout' | 'network-error' | 'address-refused';
      readonly errorCode: string;
      readonly errorMessage: string;
      readonly durationMs: number;
    };

/**
 * The report as the retry plan reads it; undefined for an address refused, which is a
 * configuration problem, not a passing one: no retry plan applies to it.
 */
export function attemptOutcomeOf(report: AttemptReport, attemptAt: Date): AttemptOutcome | undefined {
  if (report.kind === 'response') {
    return {
      kind: 'response',
      status: report.status,
      retryAfterMs: parseRetryAfterMs(report.retryAfter, attemptAt),
    };
  }
  return report.kind === 'address-refused' ? undefined : { kind: report.kind };
}

export function isSuccessfulAttempt(report: AttemptReport): boolean {
  return report.kind === 'response' && isSuccessfulOutcome({ kind: 'response', status: report.status });
}

/** The outcome class history and metrics record for an attempt. */
export function outcomeClassOf(report: AttemptReport): AttemptOutcomeClass {
  if (report.kind !== 'response') return report.kind;
  return isSuccessfulAttempt(report) ? 'success' : 'http-error';
}

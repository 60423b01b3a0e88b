/**
 * Something a service needs before it can do its work (broker, database, a rebuilt index).
 * `check` resolves when ready and rejects with a short reason when not; it may resolve with
 * details worth showing an operator (shown under the check's name in the readiness answer).
 */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void | Readonly<Record<string, unknown>>>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

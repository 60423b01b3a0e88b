/**
 * Something a service needs before it can do its work (broker, database, a rebuilt index).
 * `check` resolves when ready and rejects with a short reason when not.
 */
export interface ReadinessCheck {
  readonly name: string;
  check(): Promise<void>;
}

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

/** Time as the domain sees it: injected, so expiry and renewal windows are testable at their edges. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

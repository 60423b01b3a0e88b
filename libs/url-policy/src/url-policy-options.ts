export interface UrlPolicyOptions {
  /**
   * Development and tests only: allow http (and https) to loopback hosts (127.0.0.0/8, ::1, `localhost`).
   * Without it loopback is refused like any other private address.
   */
  readonly allowHttpLoopback?: boolean;
}

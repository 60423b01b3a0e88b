/** The dispatcher's request, when an endpoint's circuit breaker trips. */
export interface DisableByCircuitBreakerCommand {
  readonly organisationId: string;
  readonly subscriptionId: string;
  /** Why, in the breaker's words (shown to the partner). */
  readonly detail: string;
  /** When the dispatcher asked: a partner's enable after it wins. */
  readonly issuedAt: string;
}

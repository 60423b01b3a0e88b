/** The expiry scheduler's command: no tenant context, the subscription's own organisation applies. */
export interface ExpireSubscriptionCommand {
  readonly organisationId: string;
  readonly subscriptionId: string;
}

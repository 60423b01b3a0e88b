import { type SubscriberOrganisation } from '../subscriber-organisation';

/** The lifecycle steps a partner takes with one request and no body. */
export type SubscriptionStatusChange = 'disable' | 'enable' | 'revoke' | 'delete' | 'renew';

export interface ChangeSubscriptionStatusCommand {
  readonly organisation: SubscriberOrganisation;
  readonly subscriptionId: string;
  readonly expectedVersion?: number | undefined;
  readonly change: SubscriptionStatusChange;
}

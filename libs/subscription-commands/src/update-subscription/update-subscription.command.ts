import { type DeliveryOrdering, type EndpointRateLimit } from '@skyhook/contracts';
import { type SubscriberOrganisation } from '../subscriber-organisation';

/** A partial change; `status` may be a profile's own word for one (FL3XX's `inactive`). */
export interface UpdateSubscriptionCommand {
  readonly organisation: SubscriberOrganisation;
  readonly subscriptionId: string;
  readonly expectedVersion?: number | undefined;
  readonly url?: string | undefined;
  readonly description?: string | undefined;
  readonly eventTypes?: readonly string[] | undefined;
  readonly scopeFilter?: Readonly<Record<string, string>> | undefined;
  readonly policy?: Record<string, unknown> | undefined;
  /** Per-key FIFO; null turns it off. */
  readonly ordering?: DeliveryOrdering | null | undefined;
  readonly status?: string | undefined;
  /** The endpoint's rate limit; null removes it. */
  readonly rateLimit?: EndpointRateLimit | null | undefined;
}

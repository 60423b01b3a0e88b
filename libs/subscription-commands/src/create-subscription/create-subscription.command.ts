import { type DeliveryOrdering, type EndpointRateLimit } from '@skyhook/contracts';
import { type SubscriberOrganisation } from '../subscriber-organisation';

export interface CreateSubscriptionCommand {
  readonly organisation: SubscriberOrganisation;
  readonly url: string;
  readonly description: string;
  readonly eventTypes: readonly string[];
  readonly scopeFilter: Readonly<Record<string, string>>;
  /** Overrides of the organisation's default delivery policy. */
  readonly policy: Record<string, unknown>;
  /** The caller's own signing secret (e.g. a receiver's existing one); otherwise one is generated. */
  readonly secret?: string | undefined;
  /** Per-key FIFO; null or absent: unordered. */
  readonly ordering?: DeliveryOrdering | null | undefined;
  /** The endpoint's rate limit; null or absent: no limit. */
  readonly rateLimit?: EndpointRateLimit | null | undefined;
}

import { type SubscriberOrganisation } from '../subscriber-organisation';

/** Both optional; `data` only with a `type`. */
export interface SendTestEventCommand {
  readonly organisation: SubscriberOrganisation;
  readonly subscriptionId: string;
  readonly type?: string | undefined;
  readonly data?: Record<string, unknown> | undefined;
}

/** The event that was published, as the caller is shown it. */
export interface TestEventPublished {
  readonly eventId: string;
  readonly type: string;
  readonly scope: Readonly<Record<string, string>>;
  readonly occurredAt: string;
  readonly data: Readonly<Record<string, unknown>>;
}

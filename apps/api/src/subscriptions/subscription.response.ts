import { type SubscriptionState } from '@skyhook/subscriptions';

/** What partners see of a subscription: secrets only as a hint, the version as the ETag. */
export interface SubscriptionResponse {
  readonly id: string;
  readonly url: string;
  readonly description: string;
  readonly eventTypes: readonly string[];
  readonly scopeFilter: Readonly<Record<string, string>>;
  readonly status: string;
  readonly disabledReason: string | null;
  readonly disabledDetail: string | null;
  readonly expiresAt: string | null;
  readonly secretHint: string;
  readonly secretsSigning: number;
  readonly policy: Readonly<Record<string, unknown>>;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export function subscriptionResponseOf(state: SubscriptionState): SubscriptionResponse {
  const current = state.secrets.find((secret) => secret.retiresAt === null) ?? state.secrets[0];
  return {
    id: state.id,
    url: state.url,
    description: state.description,
    eventTypes: state.eventTypes,
    scopeFilter: state.scopeFilter,
    status: state.status,
    disabledReason: state.disabledReason,
    disabledDetail: state.disabledDetail,
    expiresAt: state.expiresAt,
    secretHint: current?.hint ?? '',
    secretsSigning: state.secrets.length,
    policy: state.policy,
    version: state.version,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
  };
}

import { Inject, Injectable } from '@nestjs/common';
import { type OrganisationSnapshot, type SubscriptionEvent } from '@skyhook/contracts';
import {
  DEFAULT_DELIVERY_PROFILE,
  DeliveryPolicyError,
  type DeliveryPolicy,
  type DeliveryPolicyOverride,
  type DeliveryProfileName,
  isDeliveryProfileName,
  parseDeliveryPolicyOverride,
  resolveEffectivePolicy,
  SIGNATURE_SCHEME_TRAITS,
} from '@skyhook/delivery-policy';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { SecretsError, SecretsErrorCode } from '@skyhook/secrets';
import {
  evolveSubscription,
  signingSecretsAt,
  SubscriptionFoldError,
  type SubscriptionState,
} from '@skyhook/subscriptions';
import {
  compilePayloadRenderer,
  compileSigner,
  type WebhookPreparation,
  WebhookSigningError,
} from '@skyhook/webhook-signing';
import { DISPATCHER_CONFIG, type DispatcherConfig } from './dispatcher.config';

/**
 * Everything a delivery to one subscription needs, compiled once per change of the
 * subscription: the policy resolved, the signer's keys derived, the payload template compiled.
 */
export interface Endpoint extends WebhookPreparation {
  readonly subscription: SubscriptionState;
  readonly url: string;
  readonly policy: DeliveryPolicy;
  /**
   * When the secret signing now was activated by a rotation (undefined: the subscription's first
   * secret): a 401/403 soon after is the partner switching their receiver over, not a failure.
   */
  readonly secretActivatedAt: number | undefined;
}

/**
 * A subscription whose endpoint cannot be compiled from what the log holds (a policy or
 * template the api would not accept today, a URL that does not parse, a secret that cannot
 * sign): no attempt can be made until the subscription changes, so retrying its requests
 * would only hold up its partition.
 */
export interface UnusableEndpoint {
  readonly unusable: true;
  readonly subscription: SubscriptionState;
  readonly code: string;
  readonly reason: string;
}

export function isUnusable(endpoint: Endpoint | UnusableEndpoint): endpoint is UnusableEndpoint {
  return 'unusable' in endpoint;
}

interface OrganisationDefaults {
  readonly profile: DeliveryProfileName;
  readonly policy: DeliveryPolicyOverride;
  readonly updatedAt: string;
}

interface CompiledEndpoint {
  readonly endpoint: Endpoint | UnusableEndpoint;
  readonly subscriptionVersion: number;
  readonly organisationUpdatedAt: string | undefined;
  /** When a secret next activates or retires: the signer must be compiled again then. */
  readonly validUntil: number;
}

type SubscriptionListener = (previous: SubscriptionState | undefined, current: SubscriptionState) => void;

/**
 * The dispatcher's view of every subscription (URL, secrets, policy, status) and of each
 * organisation's default policy, folded from the subscription log and the organisation
 * snapshots with the same code the api uses. Endpoints are compiled lazily (policy resolved,
 * secrets decrypted, HMAC keys derived) and cached until the subscription, its organisation's
 * default or its set of signing secrets changes.
 */
@Injectable()
export class EndpointDirectory {
  private readonly subscriptions = new Map<string, SubscriptionState>();
  private readonly organisationDefaults = new Map<string, OrganisationDefaults>();
  private readonly compiled = new Map<string, CompiledEndpoint>();
  private readonly listeners: SubscriptionListener[] = [];

  constructor(
    @Inject(DISPATCHER_CONFIG) private readonly config: DispatcherConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  get size(): number {
    return this.subscriptions.size;
  }

  applySubscriptionEvent(event: SubscriptionEvent): void {
    const previous = this.subscriptions.get(event.subscriptionId);
    // The log may repeat records (at-least-once): a version already folded is ignored.
    if (previous !== undefined && event.version <= previous.version) return;
    let current: SubscriptionState;
    try {
      current = evolveSubscription(previous, event);
    } catch (error) {
      if (!(error instanceof SubscriptionFoldError)) throw error;
      this.logger.error(
        { err: error, subscriptionId: event.subscriptionId },
        'skipped an event that does not fold',
      );
      return;
    }
    this.subscriptions.set(event.subscriptionId, current);
    this.compiled.delete(event.subscriptionId);
    for (const listener of this.listeners) listener(previous, current);
  }

  applyOrganisationSnapshot(snapshot: OrganisationSnapshot): void {
    let policy: DeliveryPolicyOverride;
    try {
      policy = parseDeliveryPolicyOverride(snapshot.defaultPolicy);
    } catch (error) {
      // The api validates defaults before publishing them; an invalid one keeps the previous.
      this.logger.error(
        { err: error, organisationId: snapshot.organisationId },
        'ignored an invalid default policy',
      );
      return;
    }
    if (!isDeliveryProfileName(snapshot.profile)) {
      // Written by a newer api that knows a profile this dispatcher does not: keep the previous.
      this.logger.error(
        { organisationId: snapshot.organisationId, profile: snapshot.profile },
        'ignored an organisation snapshot naming an unknown delivery profile',
      );
      return;
    }
    this.organisationDefaults.set(snapshot.organisationId, {
      profile: snapshot.profile,
      policy,
      updatedAt: snapshot.updatedAt,
    });
  }

  /** Called on every change of a subscription (e.g. to close its breaker when it is enabled again). */
  onSubscriptionChange(listener: SubscriptionListener): void {
    this.listeners.push(listener);
  }

  subscription(subscriptionId: string): SubscriptionState | undefined {
    return this.subscriptions.get(subscriptionId);
  }

  /**
   * The compiled endpoint, or why it cannot be compiled, or undefined for a subscription never
   * seen (or deleted and forgotten).
   */
  endpoint(subscriptionId: string, now: number): Endpoint | UnusableEndpoint | undefined {
    const subscription = this.subscriptions.get(subscriptionId);
    if (subscription === undefined) return undefined;
    const organisationDefault = this.organisationDefaults.get(subscription.organisationId);
    const cached = this.compiled.get(subscriptionId);
    if (
      cached !== undefined &&
      cached.subscriptionVersion === subscription.version &&
      cached.organisationUpdatedAt === organisationDefault?.updatedAt &&
      now < cached.validUntil
    ) {
      return cached.endpoint;
    }
    const compiled = this.compileOrExplain(subscription, organisationDefault, now);
    this.compiled.set(subscriptionId, compiled);
    return compiled.endpoint;
  }

  /** Cached like a compiled endpoint: explained (and logged) once per change, not per request. */
  private compileOrExplain(
    subscription: SubscriptionState,
    organisationDefault: OrganisationDefaults | undefined,
    now: number,
  ): CompiledEndpoint {
    try {
      return this.compile(subscription, organisationDefault, now);
    } catch (error) {
      const unusable = unusableBecause(error);
      if (unusable === undefined) throw error;
      this.logger.error(
        { subscriptionId: subscription.id, organisationId: subscription.organisationId, ...unusable },
        'endpoint cannot be compiled: its delivery requests go to the dead-letter topic',
      );
      return {
        endpoint: { unusable: true, subscription, ...unusable },
        subscriptionVersion: subscription.version,
        organisationUpdatedAt: organisationDefault?.updatedAt,
        validUntil: Number.POSITIVE_INFINITY,
      };
    }
  }

  private compile(
    subscription: SubscriptionState,
    organisationDefault: OrganisationDefaults | undefined,
    now: number,
  ): CompiledEndpoint {
    assertDeliverableUrl(subscription.url);
    const policy = resolveEffectivePolicy(
      organisationDefault?.policy,
      parseDeliveryPolicyOverride(subscription.policy),
      organisationDefault?.profile ?? DEFAULT_DELIVERY_PROFILE,
    );
    // A pending secret signs nothing; a retiring one only where the header carries several. No
    // secret at all is left to the signer to refuse (an unusable endpoint).
    const phases =
      subscription.secrets.length === 0 ? undefined : signingSecretsAt(subscription.secrets, now);
    const signing =
      phases === undefined
        ? []
        : SIGNATURE_SCHEME_TRAITS[policy.signature.scheme].carriesSeveralSignatures
          ? [phases.current, ...phases.retiring]
          : [phases.current];
    const secrets = signing.map((secret) =>
      this.config.secretCipher.decrypt(secret.encrypted, `${subscription.id}:${secret.id}`),
    );
    return {
      endpoint: {
        subscription,
        url: subscription.url,
        policy,
        signer: compileSigner(policy.signature, secrets),
        renderBody: compilePayloadRenderer(policy.payload),
        secretActivatedAt: phases?.currentActivatedAt,
      },
      subscriptionVersion: subscription.version,
      organisationUpdatedAt: organisationDefault?.updatedAt,
      // Compiled again when a scheduled secret activates or a retiring one retires.
      validUntil: phases?.nextChangeAt ?? Number.POSITIVE_INFINITY,
    };
  }
}

class UndeliverableUrlError extends Error {
  readonly code = 'INVALID_URL';
}

/**
 * Only what no attempt could get past: the URL policy's address checks stay at delivery time,
 * where a refused address is recorded as a failed attempt the partner can see in history.
 */
function assertDeliverableUrl(url: string): void {
  const parsed = URL.parse(url);
  if (parsed === null) throw new UndeliverableUrlError('the subscription URL does not parse');
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw new UndeliverableUrlError(
      `the subscription URL has the scheme ${parsed.protocol} (https expected)`,
    );
  }
}

/**
 * The compile failures that hold for this subscription whatever is retried. A master key this
 * process does not have is not one of them: that is the process's configuration, true of every
 * subscription encrypted under the key, and fixed by configuring it, so those requests wait.
 */
function unusableBecause(error: unknown): { code: string; reason: string } | undefined {
  if (
    error instanceof DeliveryPolicyError ||
    error instanceof WebhookSigningError ||
    error instanceof UndeliverableUrlError
  ) {
    return { code: error.code, reason: error.message };
  }
  if (error instanceof SecretsError && error.code !== SecretsErrorCode.UnknownMasterKey) {
    return { code: error.code, reason: error.message };
  }
  return undefined;
}

import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import {
  type InboundEvent,
  inboundEventContract,
  type StoredSecret,
  type SubscriptionEvent,
  type SubscriptionFields,
  TEST_EVENT_TYPE,
} from '@skyhook/contracts';
import { ContractProducer } from '@skyhook/messaging';
import {
  deliveryProfile,
  missingScopeKey,
  parseDeliveryPolicyOverride,
  resolveEffectivePolicy,
} from '@skyhook/delivery-policy';
import { generateSigningSecret, secretHint, validateCallerSecret } from '@skyhook/secrets';
import {
  type Clock,
  decideActivateSecret,
  decideBreakerDisable,
  decideCreate,
  decideDelete,
  decideDisable,
  decideEnable,
  decideExpire,
  decideRenew,
  decideRevoke,
  decideRotateSecret,
  decideUpdate,
  evolveSubscription,
  filtersOutsideCatalogue,
  matchesEventType,
  SubscriptionError,
  SubscriptionErrorCode,
  type SecretActivation,
  type SubscriptionLifetime,
  type SubscriptionState,
} from '@skyhook/subscriptions';
import { checkWebhookUrlAndResolve } from '@skyhook/url-policy';
import { API_CONFIG, type ApiConfig } from '../api.config';
import { EventTypeRepository } from '../event-types/event-type.repository';
import { assertEventDataWithinLimit } from '../events/event-data-limit';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { type Organisation } from '../organisations/organisation.repository';
import { CLOCK } from '../clock.provider';
import { SubscriptionOutbox } from './subscription-outbox';
import { SubscriptionReadModelRepository } from './subscription-read-model.repository';
import { type TestEventSent } from './subscription.response';
import {
  type ActivateSecretRequest,
  type CreateSubscriptionRequest,
  type RotateSecretRequest,
  type SendTestEventRequest,
  type UpdateSubscriptionRequest,
  MAX_ACTIVATION_LEAD_DAYS,
} from './subscription.schemas';

export interface SubscriptionWithSecret {
  readonly subscription: SubscriptionState;
  /** Shown once, at creation and rotation; only a hint is ever shown again. */
  readonly signingSecret: string;
  /** Its id: what `POST …/secrets/{secretId}/activation` names. */
  readonly secretId: string;
}

type Decide = (state: SubscriptionState, now: Date) => (SubscriptionEvent | null)[];

function lifetimeOf(organisation: Organisation, timeScale: number): SubscriptionLifetime {
  const { subscriptionLifetimeDays: days, subscriptionLifetimeMonths: months } = organisation;
  return {
    lifetime: months !== null ? { months } : days !== null ? { days } : null,
    renewalWindowDays: organisation.renewalWindowDays,
    timeScale,
  };
}

/**
 * A profile that subscribes per tenant (AviationAlley per center, FL3XX per operator) needs
 * the scope filter on that key: without it a subscription would receive every tenant's events.
 */
function checkScopeFilter(organisation: Organisation, scopeFilter: Readonly<Record<string, string>>): void {
  const missing = missingScopeKey(organisation.profile, scopeFilter);
  if (missing !== undefined) {
    throw new ApiError(
      ApiErrorCode.ValidationFailed,
      `the ${organisation.profile} profile subscribes per ${missing}: give scopeFilter.${missing}`,
      'SCOPE_FILTER_REQUIRED',
      { field: `scopeFilter.${missing}` },
    );
  }
}

/**
 * Runs subscription commands: validates input against the organisation (URL policy,
 * catalogue, delivery policy), lets the aggregate decide, and commits the new state and its
 * events in one transaction, under the row lock, before handing the events to Kafka.
 */
@Injectable()
export class SubscriptionCommandsService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly readModel: SubscriptionReadModelRepository,
    private readonly outbox: SubscriptionOutbox,
    private readonly eventTypes: EventTypeRepository,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly producer: ContractProducer,
  ) {}

  async create(
    organisation: Organisation,
    request: CreateSubscriptionRequest,
  ): Promise<SubscriptionWithSecret> {
    const url = await this.checkUrl(request.url);
    await this.checkEventTypes(organisation, request.eventTypes);
    checkScopeFilter(organisation, request.scopeFilter);
    const policy = this.checkPolicy(organisation, request.policy);
    const signingSecret =
      request.secret === undefined ? generateSigningSecret() : validateCallerSecret(request.secret);
    const subscriptionId = `sub_${randomBytes(16).toString('hex')}`;
    const now = this.clock.now();
    const fields: SubscriptionFields = {
      url,
      description: request.description,
      eventTypes: request.eventTypes,
      scopeFilter: request.scopeFilter,
      policy,
    };
    const secret = this.sealSecret(subscriptionId, signingSecret, now);
    const event = decideCreate({
      subscriptionId,
      organisationId: organisation.id,
      fields,
      secret,
      lifetime: lifetimeOf(organisation, this.config.timeScale),
      now,
    });
    const subscription = evolveSubscription(undefined, event);
    await this.dataSource.transaction(async (manager) => {
      await this.readModel.saveIfNewer(manager, subscription);
      await this.outbox.enqueue(manager, event);
    });
    await this.outbox.nudge();
    return { subscription, signingSecret, secretId: secret.id };
  }

  async update(
    organisation: Organisation,
    id: string,
    request: UpdateSubscriptionRequest,
    expectedVersion?: number,
  ): Promise<SubscriptionState> {
    const status = statusUnderProfile(organisation, request.status);
    const changes: Partial<SubscriptionFields> = {};
    if (request.url !== undefined) changes.url = await this.checkUrl(request.url);
    if (request.eventTypes !== undefined) {
      await this.checkEventTypes(organisation, request.eventTypes);
      changes.eventTypes = request.eventTypes;
    }
    if (request.policy !== undefined) changes.policy = this.checkPolicy(organisation, request.policy);
    if (request.description !== undefined) changes.description = request.description;
    if (request.scopeFilter !== undefined) {
      checkScopeFilter(organisation, request.scopeFilter);
      changes.scopeFilter = request.scopeFilter;
    }
    return this.execute(organisation.id, id, expectedVersion, (state, now) => {
      const updated = decideUpdate(state, changes, now);
      const afterUpdate = updated === null ? state : evolveSubscription(state, updated);
      const statusChange =
        status === 'disabled'
          ? decideDisable(afterUpdate, 'partner', null, now)
          : status === 'active'
            ? decideEnable(afterUpdate, now)
            : null;
      return [updated, statusChange];
    });
  }

  disable(organisation: Organisation, id: string, expectedVersion?: number): Promise<SubscriptionState> {
    return this.execute(organisation.id, id, expectedVersion, (state, now) => [
      decideDisable(state, 'partner', null, now),
    ]);
  }

  enable(organisation: Organisation, id: string, expectedVersion?: number): Promise<SubscriptionState> {
    return this.execute(organisation.id, id, expectedVersion, (state, now) => [decideEnable(state, now)]);
  }

  revoke(organisation: Organisation, id: string, expectedVersion?: number): Promise<SubscriptionState> {
    return this.execute(organisation.id, id, expectedVersion, (state, now) => [decideRevoke(state, now)]);
  }

  async remove(organisation: Organisation, id: string, expectedVersion?: number): Promise<void> {
    await this.execute(organisation.id, id, expectedVersion, (state, now) => [decideDelete(state, now)]);
  }

  renew(organisation: Organisation, id: string, expectedVersion?: number): Promise<SubscriptionState> {
    return this.execute(organisation.id, id, expectedVersion, (state, now) => [
      decideRenew(state, lifetimeOf(organisation, this.config.timeScale), now),
    ]);
  }

  async rotateSecret(
    organisation: Organisation,
    id: string,
    request: RotateSecretRequest,
    expectedVersion?: number,
  ): Promise<SubscriptionWithSecret> {
    const signingSecret =
      request.secret === undefined ? generateSigningSecret() : validateCallerSecret(request.secret);
    const graceMs = (request.graceSeconds ?? this.config.SECRET_ROTATION_GRACE_SECONDS) * 1_000;
    const activation: SecretActivation =
      request.activation === 'manual'
        ? { kind: 'manual' }
        : request.activation === 'scheduled' && request.activateAt !== undefined
          ? { kind: 'scheduled', at: new Date(request.activateAt) }
          : { kind: 'immediate' };
    let secretId = '';
    const subscription = await this.execute(organisation.id, id, expectedVersion, (state, now) => {
      if (activation.kind === 'scheduled') assertActivationAhead(activation.at, now);
      const sealed = this.sealSecret(state.id, signingSecret, now);
      secretId = sealed.id;
      return [decideRotateSecret(state, sealed, { graceMs, activation }, now)];
    });
    return { subscription, signingSecret, secretId };
  }

  /** The pending secret signs from now on; the one it replaces keeps its grace (multi-signature schemes). */
  activateSecret(
    organisation: Organisation,
    id: string,
    secretId: string,
    request: ActivateSecretRequest,
    expectedVersion?: number,
  ): Promise<SubscriptionState> {
    const grace = {
      graceMs: request.graceSeconds === undefined ? undefined : request.graceSeconds * 1_000,
      defaultGraceMs: this.config.SECRET_ROTATION_GRACE_SECONDS * 1_000,
    };
    return this.execute(organisation.id, id, expectedVersion, (state, now) => [
      decideActivateSecret(state, secretId, grace, now),
    ]);
  }

  /**
   * Publishes a test event for this one subscription; it goes through fan-out and the dispatcher
   * like any other event (the subscription's payload template and signature included), and shows
   * in history as a test. What it carries: the type and `data` asked for; else the example of
   * the first catalogue type the subscription matches that has one, so that a receiver written
   * from a seed's document gets a body its own code accepts; else `webhook.test` with a message.
   */
  async sendTestEvent(
    organisation: Organisation,
    id: string,
    request: SendTestEventRequest = {},
  ): Promise<TestEventSent> {
    const subscription = await this.readModel.findLive(organisation.id, id);
    if (subscription === undefined) {
      throw new SubscriptionError(SubscriptionErrorCode.NotFound, `subscription ${id} not found`);
    }
    if (subscription.status !== 'active') {
      throw new SubscriptionError(
        SubscriptionErrorCode.InvalidTransition,
        `subscription ${id} is ${subscription.status}; only active subscriptions receive test events`,
        { status: subscription.status },
      );
    }
    const { type, data } = await this.testEventContent(organisation, subscription.eventTypes, id, request);
    const event: InboundEvent = {
      id: `evt_test_${randomBytes(12).toString('hex')}`,
      type,
      organisationId: organisation.id,
      // The subscription's own scope, so a per-center receiver sees its centerId in the test too.
      scope: { ...subscription.scopeFilter },
      occurredAt: this.clock.now().toISOString(),
      data,
      deliverTo: id,
    };
    await this.producer.send(inboundEventContract, 'inboundEvents', [event]);
    return {
      eventId: event.id,
      type: event.type,
      scope: event.scope,
      occurredAt: event.occurredAt,
      data: event.data,
    };
  }

  private async testEventContent(
    organisation: Organisation,
    filters: readonly string[],
    id: string,
    request: SendTestEventRequest,
  ): Promise<{ type: string; data: Record<string, unknown> }> {
    const catalogue = await this.eventTypes.list(organisation.id);
    if (request.type === undefined) {
      if (request.data !== undefined) {
        throw new ApiError(
          ApiErrorCode.ValidationFailed,
          'test event data needs its type: send type with data',
          undefined,
          [{ path: 'type', message: 'required with data' }],
        );
      }
      const withExample = catalogue.find(
        (eventType) => eventType.example !== null && matchesEventType(filters, eventType.name),
      );
      return withExample?.example != null
        ? { type: withExample.name, data: withExample.example }
        : {
            type: TEST_EVENT_TYPE,
            data: { subscriptionId: id, message: 'This is a test delivery from Skyhook.' },
          };
    }
    const eventType = catalogue.find((candidate) => candidate.name === request.type);
    if (eventType === undefined) {
      throw new ApiError(
        ApiErrorCode.UnknownEventType,
        `event type ${request.type} is not in the catalogue; register it with POST /v1/event-types`,
        undefined,
        { eventType: request.type },
      );
    }
    if (!matchesEventType(filters, eventType.name)) {
      throw new ApiError(
        ApiErrorCode.ValidationFailed,
        `subscription ${id} does not receive ${eventType.name} events (its event types: ${filters.join(', ')})`,
        undefined,
        [{ path: 'type', message: 'not among the subscription’s event types' }],
      );
    }
    if (request.data !== undefined)
      assertEventDataWithinLimit(request.data, this.config.EVENT_MAX_DATA_BYTES);
    const data = request.data ?? eventType.example;
    if (data === null) {
      throw new ApiError(
        ApiErrorCode.ValidationFailed,
        `event type ${eventType.name} has no example: send data, or register the type with an example`,
        undefined,
        [{ path: 'data', message: 'required: the event type has no example' }],
      );
    }
    return { type: eventType.name, data };
  }

  /** The expiry scheduler's command: no tenant context, the subscription's own organisation applies. */
  async expire(organisationId: string, id: string): Promise<void> {
    await this.execute(organisationId, id, undefined, (state, now) => [decideExpire(state, now)]);
  }

  /**
   * Disabling on the dispatcher's behalf, when an endpoint's circuit breaker trips. `applied` is
   * false when the subscription was already disabled (by the breaker or its partner): no event.
   */
  async disableByCircuitBreaker(
    organisationId: string,
    id: string,
    detail: string,
    issuedAt: string,
  ): Promise<{ subscription: SubscriptionState; applied: boolean }> {
    const { state, appended } = await this.executeAndReport(organisationId, id, undefined, (state, now) => [
      decideBreakerDisable(state, detail, issuedAt, now),
    ]);
    return { subscription: state, applied: appended };
  }

  private async execute(
    organisationId: string,
    id: string,
    expectedVersion: number | undefined,
    decide: Decide,
  ): Promise<SubscriptionState> {
    return (await this.executeAndReport(organisationId, id, expectedVersion, decide)).state;
  }

  /** Runs a command; `appended` says whether it changed anything (false: a no-op decision). */
  private async executeAndReport(
    organisationId: string,
    id: string,
    expectedVersion: number | undefined,
    decide: Decide,
  ): Promise<{ state: SubscriptionState; appended: boolean }> {
    let appended = false;
    const state = await this.dataSource.transaction(async (manager) => {
      const current = await this.readModel.lockLive(manager, organisationId, id);
      if (current === undefined) {
        throw new SubscriptionError(SubscriptionErrorCode.NotFound, `subscription ${id} not found`);
      }
      if (expectedVersion !== undefined && current.version !== expectedVersion) {
        throw new SubscriptionError(
          SubscriptionErrorCode.VersionConflict,
          `subscription ${id} is at version ${current.version}, not ${expectedVersion}: re-read it and retry`,
          { currentVersion: current.version },
        );
      }
      const now = this.clock.now();
      let next = current;
      for (const event of decide(current, now)) {
        if (event === null) continue;
        // Later decisions in one command see the earlier ones' effects and versions.
        const renumbered = { ...event, version: next.version + 1 };
        next = evolveSubscription(next, renumbered);
        await this.outbox.enqueue(manager, renumbered);
        appended = true;
      }
      if (appended) await this.readModel.saveIfNewer(manager, next);
      return next;
    });
    if (appended) await this.outbox.nudge();
    return { state, appended };
  }

  private async checkUrl(rawUrl: string): Promise<string> {
    const { url } = await checkWebhookUrlAndResolve(rawUrl, {
      allowHttpLoopback: this.config.SKYHOOK_ALLOW_HTTP_LOOPBACK,
    });
    return url.href;
  }

  private async checkEventTypes(organisation: Organisation, filters: readonly string[]): Promise<void> {
    const unknown = filtersOutsideCatalogue(filters, await this.eventTypes.names(organisation.id));
    if (unknown.length > 0) {
      throw new SubscriptionError(
        SubscriptionErrorCode.UnknownEventTypes,
        `unknown event types: ${unknown.join(', ')}; register them in the catalogue first (GET /v1/event-types lists it)`,
        { unknownEventTypes: unknown },
      );
    }
  }

  /** Validates the override and that it combines with the organisation's default into a complete policy. */
  private checkPolicy(organisation: Organisation, input: Record<string, unknown>): Record<string, unknown> {
    const override = parseDeliveryPolicyOverride(input);
    resolveEffectivePolicy(
      parseDeliveryPolicyOverride(organisation.defaultPolicy),
      override,
      organisation.profile,
    );
    return override;
  }

  private sealSecret(subscriptionId: string, signingSecret: string, now: Date): StoredSecret {
    const id = `sec_${randomBytes(8).toString('hex')}`;
    return {
      id,
      encrypted: this.config.secretCipher.encrypt(signingSecret, `${subscriptionId}:${id}`),
      hint: secretHint(signingSecret),
      createdAt: now.toISOString(),
      retiresAt: null,
    };
  }
}

/**
 * The status a PATCH asks for, in Skyhook's words: a profile may accept its seed's own word for
 * one (FL3XX's `inactive` is `disabled`); under a profile without it, the word is refused (400)
 * rather than guessed at.
 */
function statusUnderProfile(
  organisation: Organisation,
  status: UpdateSubscriptionRequest['status'],
): 'active' | 'disabled' | undefined {
  if (status === undefined || status === 'active' || status === 'disabled') return status;
  const meant = deliveryProfile(organisation.profile).subscriptions.statusAliases?.[status];
  if (meant !== undefined) return meant;
  throw new ApiError(
    ApiErrorCode.ValidationFailed,
    `status "${status}" is not a status under the ${organisation.profile} profile; use "active" or "disabled"`,
    undefined,
    [{ path: 'status', message: `${status} is accepted only under a profile that names it` }],
  );
}

/** A scheduled activation lies ahead of the api's clock, and not too far: 400 otherwise. */
function assertActivationAhead(at: Date, now: Date): void {
  const leadMs = at.getTime() - now.getTime();
  if (leadMs <= 0 || leadMs > MAX_ACTIVATION_LEAD_DAYS * 24 * 3600 * 1_000) {
    throw new ApiError(
      ApiErrorCode.ValidationFailed,
      `activateAt must lie after now and within ${MAX_ACTIVATION_LEAD_DAYS} days`,
      undefined,
      { activateAt: at.toISOString(), now: now.toISOString() },
    );
  }
}

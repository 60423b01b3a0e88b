import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  type AttemptOutcomeClass,
  type DeliveryAttempted,
  deliveryEventContract,
  type DeliveryRequest,
  type DeliverySkipped,
  deliveryRetryContracts,
  type ParkedDelivery,
  parkedDeliveryContract,
  retryTierFor,
  type SkipReason,
  type SubscriptionCommand,
  subscriptionCommandContract,
} from '@skyhook/contracts';
import {
  type AttemptOutcome,
  type DeliveryPolicy,
  type NextAttemptPlan,
  parseRetryAfterMs,
  planNextAttempt,
} from '@skyhook/delivery-policy';
import {
  type BatchingProducer,
  KafkaSendFailedError,
  type RecordOrigin,
  retryBackoffMs,
  sleepUnlessAborted,
} from '@skyhook/messaging';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { type PreparedWebhook, prepareWebhook } from '@skyhook/webhook-signing';
import { attemptFeedbackOf } from './adaptive-concurrency';
import {
  type ConcurrencyGate,
  EndpointBusyError,
  type QueueBounds,
  type ReleaseSlot,
} from './concurrency-gate';
import { DISPATCHER_CONFIG, type DispatcherConfig } from './dispatcher.config';
import { DISPATCHER_METRICS, type DispatcherMetrics } from './dispatcher-metrics';
import { type EndpointBreakers, FailedAttemptError } from './endpoint-breakers';
import { type Endpoint, EndpointDirectory, isUnusable, type UnusableEndpoint } from './endpoint-directory';
import { type HttpAttemptReport, type WebhookHttpClient } from './webhook-http-client';

export const DELIVERY_PRODUCER = Symbol('DELIVERY_PRODUCER');
export const WEBHOOK_HTTP_CLIENT = Symbol('WEBHOOK_HTTP_CLIENT');
export const ENDPOINT_BREAKERS = Symbol('ENDPOINT_BREAKERS');
export const CONCURRENCY_GATE = Symbol('CONCURRENCY_GATE');

const UNKNOWN_SUBSCRIPTION_POLL_MS = 100;

type Skip = { readonly reason: SkipReason; readonly disposition: 'dropped' | 'held' };

/** The endpoint could not take the delivery soon: it is parked instead (nothing was sent). */
type EndpointBusy = { readonly kind: 'endpoint-busy'; readonly reason: EndpointBusyError['reason'] };

/**
 * A request no attempt can ever be made for as it stands (its endpoint cannot be compiled):
 * the caller hands the record to the dead-letter topic with `code` and `reason` and moves on,
 * instead of retrying it in place and holding up its partition.
 */
export class UndeliverableRequestError extends Error {
  constructor(
    readonly code: string,
    readonly reason: string,
  ) {
    super(`undeliverable delivery request (${code}): ${reason}`);
    this.name = 'UndeliverableRequestError';
  }
}

/** Where a delivery comes from, as the consumer of its record knows it. */
export interface DispatchContext {
  /**
   * The consumed record the request came in, which a dead letter of a record made from it (too
   * large for its topic) points back to.
   */
  readonly origin?: RecordOrigin;
  /**
   * A dispatcher before this one may have sent this request's attempts and stopped before
   * recording them (the record came `possiblyHandledBefore`): the attempts made here say so.
   */
  readonly afterUnknownOutcome?: boolean;
  /**
   * Resolves once a request may go out (the consumer's dispatch frontier covers the record);
   * a rejection fails the delivery before anything is sent, and the consumer tries it again.
   */
  readonly beforeSend?: () => Promise<void>;
  /**
   * How deep and how long the delivery may queue for its endpoint before it is parked (handed to
   * the parked topic) instead of holding its record; without bounds it waits for its turn (the
   * parked consumer's own deliveries).
   */
  readonly queueBounds?: QueueBounds;
}

/**
 * Makes one delivery attempt (and any immediate retries) for a request that is due, and hands
 * its outcome on durably before resolving: the attempt event, the scheduled retry in its delay
 * tier, and, when the endpoint's breaker trips, the disable command. The caller commits the
 * source record only after that, so a crash at any point repeats work, never loses it.
 */
@Injectable()
export class DeliveryDispatcher {
  constructor(
    private readonly directory: EndpointDirectory,
    @Inject(DELIVERY_PRODUCER) private readonly producer: BatchingProducer,
    @Inject(WEBHOOK_HTTP_CLIENT) private readonly client: WebhookHttpClient,
    @Inject(ENDPOINT_BREAKERS) private readonly breakers: EndpointBreakers,
    @Inject(CONCURRENCY_GATE) private readonly gate: ConcurrencyGate,
    @Inject(DISPATCHER_METRICS) private readonly metrics: DispatcherMetrics,
    @Inject(DISPATCHER_CONFIG) private readonly config: DispatcherConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  /** Throws an {@link UndeliverableRequestError} for a request whose endpoint cannot be compiled. */
  async deliver(
    request: DeliveryRequest,
    firstAttemptNumber: number,
    stopping: AbortSignal,
    context: DispatchContext = {},
  ): Promise<void> {
    const { origin } = context;
    for (let attemptNumber = firstAttemptNumber; ;) {
      const found = await this.endpointFor(request.subscriptionId, stopping);
      if (found !== undefined && isUnusable(found)) {
        // A deleted, revoked or expired subscription gets nothing anyway: a skip, as ever.
        const skip = lifecycleSkipOf(found.subscription);
        if (skip === undefined) throw new UndeliverableRequestError(found.code, found.reason);
        await this.recordSkip(request, attemptNumber, skip, origin);
        return;
      }
      const endpoint = found;
      const skip = this.skipFor(request, endpoint);
      if (skip !== undefined || endpoint === undefined) {
        await this.recordSkip(
          request,
          attemptNumber,
          skip ?? { reason: 'subscription-unknown', disposition: 'dropped' },
          origin,
        );
        return;
      }
      const next = await this.attempt(request, attemptNumber, endpoint, stopping, context);
      if (next !== 'breaker-open' && next.kind === 'endpoint-busy') {
        await this.park(request, attemptNumber, next.reason, context);
        return;
      }
      if (next === 'breaker-open') {
        await this.recordSkip(
          request,
          attemptNumber,
          {
            reason: 'subscription-disabled',
            disposition: endpoint.policy.whileDisabled === 'hold' ? 'held' : 'dropped',
          },
          origin,
        );
        return;
      }
      // A zero delay ("retry at once") is made here; the source record stays uncommitted meanwhile.
      if (next.kind !== 'retry' || next.delayMs > 0) return;
      attemptNumber = next.attemptNumber;
    }
  }

  private async attempt(
    request: DeliveryRequest,
    attemptNumber: number,
    endpoint: Endpoint,
    stopping: AbortSignal,
    { origin, afterUnknownOutcome = false, beforeSend, queueBounds }: DispatchContext,
  ): Promise<NextAttemptPlan | 'breaker-open' | EndpointBusy> {
    const { policy } = endpoint;
    let release: ReleaseSlot;
    try {
      release = await this.gate.acquire(request.subscriptionId, stopping, queueBounds);
    } catch (error) {
      if (error instanceof EndpointBusyError) return { kind: 'endpoint-busy', reason: error.reason };
      throw error;
    }
    const attemptAt = new Date();
    // Names this one HTTP request in history: a re-produced attempt event keeps it, a request
    // sent again after a crash (its event produced, its source record not committed) gets a new one.
    const attemptId = `att_${randomUUID()}`;
    // Rendered and signed only once the breaker lets the attempt through: an open breaker costs nothing.
    let webhook: PreparedWebhook | undefined;
    let report: HttpAttemptReport | undefined;
    try {
      const send = async () => {
        // Past the endpoint's gate and breaker, the request goes out now: the consumer records
        // that first, so a crash from here on leaves it marked for the next dispatcher (ADR 0018).
        await beforeSend?.();
        webhook = prepareWebhook(endpoint, request, attemptAt);
        const sent = await this.client.post(endpoint.url, webhook.headers, webhook.body, policy.timeoutMs);
        if (!isSuccess(sent)) throw new FailedAttemptError(sent);
        return sent;
      };
      // Test deliveries go out whatever the breaker says and never move it: they are how a partner checks a fix.
      const delivered = request.test ? await send() : await this.breakers.run(request.subscriptionId, send);
      if (delivered === undefined) return 'breaker-open';
      report = delivered;
    } catch (error) {
      if (!(error instanceof FailedAttemptError)) throw error;
      report = error.report as HttpAttemptReport;
    } finally {
      // How it answered sizes the endpoint's concurrency (a timeout halves it): throttling only,
      // the breaker below counts the attempt as ever.
      release(report === undefined ? undefined : attemptFeedbackOf(report, policy.timeoutMs));
    }
    if (webhook === undefined || report === undefined) {
      throw new Error('an attempt was reported without a request being prepared');
    }

    const outcome = outcomeClassOf(report);
    const switching = this.isReceiverSwitchingSecret(endpoint, report, attemptAt);
    const next = nextAttemptAfter(
      switching ? withAuthFailuresRetried(policy) : policy,
      attemptNumber,
      report,
      attemptAt,
      this.config.timeScale,
    );
    const tripped =
      !request.test && !switching && this.countForBreaker(request.subscriptionId, outcome, policy);
    if (switching) this.metrics.authFailuresWhileSwitchingSecret.inc();
    const nextAttemptAt = next.kind === 'retry' ? new Date(Date.now() + next.delayMs) : undefined;

    const event = attemptEvent(
      request,
      { attemptNumber, attemptId, attemptAt, afterUnknownOutcome },
      endpoint.url,
      webhook,
      report,
      next,
      nextAttemptAt,
    );
    const handedOn: Promise<void>[] = [
      this.untilHandedOn(
        () => this.producer.send(deliveryEventContract, 'deliveryEvents', [event], { trusted: true, origin }),
        stopping,
      ),
    ];
    if (next.kind === 'retry' && next.delayMs > 0 && nextAttemptAt !== undefined) {
      const tier = retryTierFor(next.delayMs);
      const retry = { request, attemptNumber: next.attemptNumber, dueAt: nextAttemptAt.toISOString() };
      handedOn.push(
        this.untilHandedOn(
          () =>
            this.producer.send(deliveryRetryContracts[tier.topicKey], tier.topicKey, [retry], {
              trusted: true,
              origin,
            }),
          stopping,
        ),
      );
      this.metrics.retriesScheduled.inc({ tier: tier.topicKey });
    } else if (next.kind === 'retry') {
      this.metrics.retriesScheduled.inc({ tier: 'immediate' });
    }
    if (tripped) handedOn.push(this.untilHandedOn(() => this.disableEndpoint(request, policy), stopping));
    await Promise.all(handedOn);

    const result =
      next.kind === 'delivered' ? 'delivered' : next.kind === 'retry' ? 'retry-scheduled' : 'failed';
    this.metrics.attempts.inc({ outcome, result });
    if (afterUnknownOutcome) this.metrics.attemptsAfterUnknownOutcome.inc();
    this.metrics.attemptSeconds.observe({ outcome }, report.durationMs / 1_000);
    if (next.kind === 'delivered') {
      this.metrics.publishToDeliverySeconds.observe((Date.now() - Date.parse(request.publishedAt)) / 1_000);
    }
    return next;
  }

  /**
   * Sends what an attempt hands on until Kafka acknowledges it. The webhook has gone out: failing
   * the record here would have the consumer retry it, and send the webhook again, for as long as
   * the brokers are away (a broker restart re-sent every in-flight webhook every few seconds).
   * Each send is retried on its own, so one that was acknowledged is not sent twice. Only a
   * stopping dispatcher gives up, leaving the record uncommitted: it is re-delivered after the
   * restart (one repeat of the webhook, with the same delivery id and body).
   */
  private async untilHandedOn(send: () => Promise<void>, stopping: AbortSignal): Promise<void> {
    for (let failures = 0; ; failures += 1) {
      try {
        await send();
        return;
      } catch (error) {
        if (!(error instanceof KafkaSendFailedError) || stopping.aborted) throw error;
        const waitMs = retryBackoffMs(failures);
        if (failures % 10 === 0) {
          this.logger.warn(
            { err: error, failures: failures + 1, waitMs },
            'handing an attempt on failed; retrying',
          );
        }
        await sleepUnlessAborted(waitMs, stopping);
      }
    }
  }

  /**
   * Hands a delivery its endpoint cannot take soon to the parked topic, where a consumer group of
   * its own waits for the endpoint: the source record then counts as handled, so the partition's
   * other endpoints go on. Nothing was sent; a failed send fails the record, which is tried again.
   */
  private async park(
    request: DeliveryRequest,
    attemptNumber: number,
    reason: EndpointBusy['reason'],
    { origin, afterUnknownOutcome = false }: DispatchContext,
  ): Promise<void> {
    const parked: ParkedDelivery = {
      request,
      attemptNumber,
      parkedAt: new Date().toISOString(),
      reason,
      ...(afterUnknownOutcome ? { afterUnknownOutcome: true } : {}),
    };
    await this.producer.send(parkedDeliveryContract, 'deliveryParked', [parked], { trusted: true, origin });
    this.metrics.deliveriesParked.inc({ reason });
  }

  /**
   * A 401 or 403 soon after a rotated secret activated: the partner's receiver, holding one
   * secret, has not switched yet (docs/profiles). The window is wall-clock time, not scaled by
   * SKYHOOK_TIME_SCALE: it is the partner's deploy that it waits for.
   */
  private isReceiverSwitchingSecret(endpoint: Endpoint, report: HttpAttemptReport, attemptAt: Date): boolean {
    if (report.kind !== 'response' || (report.status !== 401 && report.status !== 403)) return false;
    if (endpoint.secretActivatedAt === undefined) return false;
    const sinceActivationMs = attemptAt.getTime() - endpoint.secretActivatedAt;
    return sinceActivationMs >= 0 && sinceActivationMs < this.config.SECRET_SWITCH_GRACE_SECONDS * 1_000;
  }

  /** Counts the attempt for the endpoint's breaker; true when it trips. */
  private countForBreaker(
    subscriptionId: string,
    outcome: AttemptOutcomeClass,
    policy: DeliveryPolicy,
  ): boolean {
    if (outcome === 'success') {
      this.breakers.recordSuccess(subscriptionId);
      return false;
    }
    return this.breakers.recordFailure(subscriptionId, policy.circuitBreaker.consecutiveFailuresToDisable);
  }

  private async disableEndpoint(request: DeliveryRequest, policy: DeliveryPolicy): Promise<void> {
    const threshold = policy.circuitBreaker.consecutiveFailuresToDisable;
    this.metrics.endpointsDisabled.inc();
    this.logger.warn(
      { subscriptionId: request.subscriptionId, organisationId: request.organisationId, threshold },
      'endpoint breaker tripped: asking the api to disable the subscription',
    );
    const command: SubscriptionCommand = {
      type: 'DisableSubscription',
      subscriptionId: request.subscriptionId,
      organisationId: request.organisationId,
      reason: 'circuit-breaker',
      detail: `${threshold} consecutive failed delivery attempts`,
      issuedAt: new Date().toISOString(),
    };
    await this.producer.send(subscriptionCommandContract, 'subscriptionCommands', [command]);
  }

  /**
   * A request may arrive before this process has read its subscription's creation from the
   * log (the two topics are read independently): wait a bounded time for it.
   */
  private async endpointFor(
    subscriptionId: string,
    stopping: AbortSignal,
  ): Promise<Endpoint | UnusableEndpoint | undefined> {
    const giveUpAt = Date.now() + this.config.DISPATCH_UNKNOWN_SUBSCRIPTION_WAIT_MS;
    for (;;) {
      const endpoint = this.directory.endpoint(subscriptionId, Date.now());
      if (endpoint !== undefined || Date.now() >= giveUpAt) return endpoint;
      await sleepUnlessAborted(UNKNOWN_SUBSCRIPTION_POLL_MS, stopping);
    }
  }

  private skipFor(request: DeliveryRequest, endpoint: Endpoint | undefined): Skip | undefined {
    if (endpoint === undefined) return { reason: 'subscription-unknown', disposition: 'dropped' };
    const { subscription, policy } = endpoint;
    const lifecycleSkip = lifecycleSkipOf(subscription);
    if (lifecycleSkip !== undefined || subscription.status !== 'disabled') {
      // An active one is sent, also when fan-out held its request while it was disabled.
      return lifecycleSkip;
    }
    if (request.test) return undefined;
    return {
      reason: 'subscription-disabled',
      disposition: policy.whileDisabled === 'hold' ? 'held' : 'dropped',
    };
  }

  private async recordSkip(
    request: DeliveryRequest,
    attemptNumber: number,
    skip: Skip,
    origin: RecordOrigin | undefined,
  ): Promise<void> {
    const event: DeliverySkipped = {
      type: 'DeliverySkipped',
      ...deliveryIdentity(request),
      request,
      skippedAt: new Date().toISOString(),
      reason: skip.reason,
      disposition: skip.disposition,
      attemptNumber,
    };
    await this.producer.send(deliveryEventContract, 'deliveryEvents', [event], { trusted: true, origin });
    this.metrics.deliveriesSkipped.inc({ reason: skip.reason, disposition: skip.disposition });
  }
}

/** Deleted, revoked and expired subscriptions receive nothing, whatever their policy says. */
function lifecycleSkipOf(subscription: Endpoint['subscription']): Skip | undefined {
  if (subscription.deleted) return { reason: 'subscription-deleted', disposition: 'dropped' };
  if (subscription.status === 'revoked') return { reason: 'subscription-revoked', disposition: 'dropped' };
  if (subscription.status === 'expired') return { reason: 'subscription-expired', disposition: 'dropped' };
  return undefined;
}

function isSuccess(report: HttpAttemptReport): boolean {
  return report.kind === 'response' && report.status >= 200 && report.status <= 299;
}

function outcomeClassOf(report: HttpAttemptReport): AttemptOutcomeClass {
  if (report.kind !== 'response') return report.kind;
  return isSuccess(report) ? 'success' : 'http-error';
}

/** The policy with any failed answer retryable: a 401/403 while the receiver switches secrets. */
function withAuthFailuresRetried(policy: DeliveryPolicy): DeliveryPolicy {
  return { ...policy, retry: { ...policy.retry, retryOn: 'any-non-2xx' } };
}

/** `timeScale` divides the wait (SKYHOOK_TIME_SCALE, tests and demos only); 1 in production. */
function nextAttemptAfter(
  policy: DeliveryPolicy,
  attemptNumber: number,
  report: HttpAttemptReport,
  attemptAt: Date,
  timeScale: number,
): NextAttemptPlan {
  // A refused address is a configuration problem, not a passing one: retrying cannot help.
  if (report.kind === 'address-refused') return { kind: 'give-up', reason: 'not-retryable' };
  const outcome: AttemptOutcome =
    report.kind === 'response'
      ? {
          kind: 'response',
          status: report.status,
          retryAfterMs: parseRetryAfterMs(report.retryAfter, attemptAt),
        }
      : { kind: report.kind };
  const next = planNextAttempt(policy.retry, attemptNumber, outcome);
  if (next.kind !== 'retry' || timeScale === 1 || next.delayMs === 0) return next;
  // Still at least 1 ms, so a scheduled wait keeps going through the durable retry tiers.
  return { ...next, delayMs: Math.max(1, Math.round(next.delayMs / timeScale)) };
}

function deliveryIdentity(request: DeliveryRequest) {
  return {
    deliveryId: request.deliveryId,
    subscriptionId: request.subscriptionId,
    organisationId: request.organisationId,
    eventId: request.event.id,
    eventType: request.event.type,
    test: request.test,
    publishedAt: request.publishedAt,
  };
}

function attemptEvent(
  request: DeliveryRequest,
  {
    attemptNumber,
    attemptId,
    attemptAt,
    afterUnknownOutcome,
  }: { attemptNumber: number; attemptId: string; attemptAt: Date; afterUnknownOutcome: boolean },
  url: string,
  webhook: { readonly headers: Record<string, string>; readonly body: Buffer },
  report: HttpAttemptReport,
  next: NextAttemptPlan,
  nextAttemptAt: Date | undefined,
): DeliveryAttempted {
  return {
    type: 'DeliveryAttempted',
    ...deliveryIdentity(request),
    request: attemptNumber === 1 ? request : null,
    attemptNumber,
    attemptId,
    // Only when set: the attempts of an undisturbed dispatch stay as they were.
    ...(afterUnknownOutcome ? { afterUnknownOutcome: true } : {}),
    attemptedAt: attemptAt.toISOString(),
    durationMs: report.durationMs,
    url,
    requestHeaders: webhook.headers,
    requestBodyBytes: webhook.body.length,
    outcome: outcomeClassOf(report),
    responseStatus: report.kind === 'response' ? report.status : null,
    responseBody: report.kind === 'response' ? report.bodyExcerpt : null,
    errorCode: report.kind === 'response' ? null : report.errorCode,
    errorMessage: report.kind === 'response' ? null : report.errorMessage,
    result: next.kind === 'delivered' ? 'delivered' : next.kind === 'retry' ? 'retry-scheduled' : 'failed',
    nextAttemptAt: nextAttemptAt?.toISOString() ?? null,
  };
}

import { type Attributes } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  type DeliveryRequest,
  deliveryEventContract,
  deliveryRetryContracts,
  parkedDeliveryContract,
  retryTierFor,
  subscriptionCommandContract,
} from '@skyhook/contracts';
import {
  type AttemptReport,
  attemptedEvent,
  attemptFeedbackOf,
  endpointPauseOf,
  attemptResultOf,
  breakerDisableCommand,
  type EndpointBreakers,
  FailedAttemptError,
  isReceiverSwitchingSecret,
  isSuccessfulAttempt,
  lifecycleSkipOf,
  nextAttemptAfter,
  outcomeClassOf,
  parkedDelivery,
  runOutsideBreaker,
  scheduledRetry,
  type Skip,
  skipDecision,
  disabledSkip,
  skippedEvent,
  waitingEvent,
  withAuthFailuresRetried,
} from '@skyhook/delivery';
import { type DeliveryPolicy, type NextAttemptPlan } from '@skyhook/delivery-policy';
import {
  type BatchingProducer,
  KafkaSendFailedError,
  type RecordOrigin,
  retryBackoffMs,
  sleepUnlessAborted,
} from '@skyhook/messaging';
import {
  type OutgoingRequestEnd,
  SERVICE_LOGGER,
  type ServiceLogger,
  traceOutgoingRequest,
} from '@skyhook/observability';
import { type PreparedWebhook, prepareWebhook } from '@skyhook/webhook-signing';
import {
  type ConcurrencyGate,
  EndpointBusyError,
  type QueueBounds,
  type ReleaseSlot,
} from './concurrency-gate';
import { DISPATCHER_CONFIG, type DispatcherConfig } from './dispatcher.config';
import { DISPATCHER_METRICS, type DispatcherMetrics } from './dispatcher-metrics';
import { type Endpoint, EndpointDirectory, isUnusable, type UnusableEndpoint } from './endpoint-directory';
import { type WebhookHttpClient } from './webhook-http-client';

export const DELIVERY_PRODUCER = Symbol('DELIVERY_PRODUCER');
export const WEBHOOK_HTTP_CLIENT = Symbol('WEBHOOK_HTTP_CLIENT');
export const ENDPOINT_BREAKERS = Symbol('ENDPOINT_BREAKERS');
export const CONCURRENCY_GATE = Symbol('CONCURRENCY_GATE');

const UNKNOWN_SUBSCRIPTION_POLL_MS = 100;

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
  /**
   * Retries wait here, over the unfinished record, instead of in a delay tier: an ordered
   * delivery's key must not go on before its head is delivered or given up (ADR 0031). A crash
   * re-reads the record, so the wait loses nothing.
   */
  readonly retriesInPlace?: boolean;
}

/** How a delivery's handling ended here, and with which attempt. */
export interface DeliveryEnd {
  readonly kind: 'delivered' | 'failed' | 'retry-scheduled' | 'skipped' | 'parked';
  readonly attemptNumber: number;
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
  ): Promise<DeliveryEnd> {
    const { origin } = context;
    for (let attemptNumber = firstAttemptNumber; ;) {
      const found = await this.endpointFor(request.subscriptionId, stopping);
      if (found !== undefined && isUnusable(found)) {
        // A deleted, revoked or expired subscription gets nothing anyway: a skip, as ever.
        const skip = lifecycleSkipOf(found.subscription);
        if (skip === undefined) throw new UndeliverableRequestError(found.code, found.reason);
        await this.recordSkip(request, attemptNumber, skip, origin);
        return { kind: 'skipped', attemptNumber };
      }
      const endpoint = found;
      const skip = skipDecision(request, endpoint);
      if (skip !== undefined || endpoint === undefined) {
        await this.recordSkip(
          request,
          attemptNumber,
          skip ?? { reason: 'subscription-unknown', disposition: 'dropped' },
          origin,
        );
        return { kind: 'skipped', attemptNumber };
      }
      const next = await this.attempt(request, attemptNumber, endpoint, stopping, context);
      if (next !== 'breaker-open' && next.kind === 'endpoint-busy') {
        await this.park(request, attemptNumber, next.reason, context);
        return { kind: 'parked', attemptNumber };
      }
      if (next === 'breaker-open') {
        await this.recordSkip(request, attemptNumber, disabledSkip(endpoint.policy), origin);
        return { kind: 'skipped', attemptNumber };
      }
      if (next.kind === 'delivered') return { kind: 'delivered', attemptNumber };
      if (next.kind === 'give-up') return { kind: 'failed', attemptNumber };
      if (next.delayMs > 0) {
        if (context.retriesInPlace !== true) return { kind: 'retry-scheduled', attemptNumber };
        await sleepUnlessAborted(next.delayMs, stopping);
      }
      // A zero delay ("retry at once") is made here; the source record stays uncommitted meanwhile.
      attemptNumber = next.attemptNumber;
    }
  }

  private async attempt(
    request: DeliveryRequest,
    attemptNumber: number,
    endpoint: Endpoint,
    stopping: AbortSignal,
    { origin, afterUnknownOutcome = false, beforeSend, queueBounds, retriesInPlace = false }: DispatchContext,
  ): Promise<NextAttemptPlan | 'breaker-open' | EndpointBusy> {
    const { policy } = endpoint;
    let release: ReleaseSlot;
    try {
      release = await this.gate.acquire(request.subscriptionId, stopping, queueBounds, {
        organisationId: request.organisationId,
        // A retry is late by its plan, not by waiting: an organisation's lag counts first attempts.
        publishedAt: attemptNumber === 1 ? Date.parse(request.publishedAt) : Date.now(),
        rateLimitPerSecond: endpoint.subscription.rateLimit?.perSecond,
      });
    } catch (error) {
      if (error instanceof EndpointBusyError) return { kind: 'endpoint-busy', reason: error.reason };
      throw error;
    }
    const attemptAt = new Date();
    // Names this one HTTP request in history: a re-produced attempt event keeps it, a request
    // sent again after a crash (its event produced, its source record not committed) gets a new one.
    const attemptId = `att_${randomUUID()}`;
    const graceMs = this.config.SECRET_SWITCH_GRACE_SECONDS * 1_000;
    // Rendered and signed only once the breaker lets the attempt through: an open breaker costs nothing.
    let webhook: PreparedWebhook | undefined;
    let report: AttemptReport | undefined;
    let tripped = false;
    try {
      const send = async (): Promise<AttemptReport> => {
        // Past the endpoint's gate and breaker, the request goes out now: the consumer records
        // that first, so a crash from here on leaves it marked for the next dispatcher (ADR 0018).
        await beforeSend?.();
        webhook = prepareWebhook(endpoint, request, attemptAt);
        const prepared = webhook;
        const sent = await traceOutgoingRequest(
          'POST',
          () => webhookSpanAttributes(endpoint.url, request, attemptNumber),
          () => this.client.post(endpoint.url, prepared.headers, prepared.body, policy.timeoutMs),
          webhookSpanEnd,
        );
        if (isSuccessfulAttempt(sent)) return sent;
        // A receiver still switching to a rotated secret says nothing about the endpoint's health.
        const counted = !isReceiverSwitchingSecret(endpoint.secretActivatedAt, sent, attemptAt, graceMs);
        throw new FailedAttemptError(sent, counted);
      };
      // Test deliveries go out whatever the breaker says and never move it: they are how a partner checks a fix.
      const run = request.test
        ? await runOutsideBreaker<AttemptReport, AttemptReport>(send)
        : await this.breakers.run<AttemptReport, AttemptReport>(
            request.subscriptionId,
            policy.circuitBreaker.consecutiveFailuresToDisable,
            send,
          );
      if (run.kind === 'refused') return 'breaker-open';
      report = run.kind === 'succeeded' ? run.value : run.report;
      tripped = run.kind === 'failed' && run.tripped;
    } finally {
      // How it answered sizes the endpoint's concurrency (a timeout halves it) and, with a
      // Retry-After, pauses it: throttling only, the breaker counts the attempt as ever.
      release(
        report === undefined ? undefined : attemptFeedbackOf(report, policy.timeoutMs),
        report === undefined ? undefined : endpointPauseOf(report, attemptAt),
      );
    }
    if (webhook === undefined) throw new Error('an attempt was reported without a request being prepared');

    const outcome = outcomeClassOf(report);
    const switching = isReceiverSwitchingSecret(endpoint.secretActivatedAt, report, attemptAt, graceMs);
    const next = nextAttemptAfter(
      switching ? withAuthFailuresRetried(policy) : policy,
      attemptNumber,
      report,
      attemptAt,
      this.config.timeScale,
    );
    if (switching) this.metrics.authFailuresWhileSwitchingSecret.inc();
    const nextAttemptAt = next.kind === 'retry' ? new Date(Date.now() + next.delayMs) : undefined;

    const event = attemptedEvent(
      request,
      { attemptNumber, attemptId, attemptAt, afterUnknownOutcome },
      { url: endpoint.url, headers: webhook.headers, body: webhook.body },
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
    if (next.kind === 'retry' && next.delayMs > 0 && retriesInPlace) {
      this.metrics.retriesScheduled.inc({ tier: 'in-place' });
    } else if (next.kind === 'retry' && next.delayMs > 0 && nextAttemptAt !== undefined) {
      const tier = retryTierFor(next.delayMs);
      const retry = scheduledRetry(request, next.attemptNumber, nextAttemptAt);
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

    this.metrics.attempts.inc({ outcome, result: attemptResultOf(next) });
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
    const parked = parkedDelivery(request, attemptNumber, reason, new Date(), afterUnknownOutcome);
    await this.producer.send(parkedDeliveryContract, 'deliveryParked', [parked], { trusted: true, origin });
    this.metrics.deliveriesParked.inc({ reason });
  }

  private async disableEndpoint(request: DeliveryRequest, policy: DeliveryPolicy): Promise<void> {
    const threshold = policy.circuitBreaker.consecutiveFailuresToDisable;
    this.metrics.endpointsDisabled.inc();
    this.logger.warn(
      { subscriptionId: request.subscriptionId, organisationId: request.organisationId, threshold },
      'endpoint breaker tripped: asking the api to disable the subscription',
    );
    const command = breakerDisableCommand(request, threshold, new Date());
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

  /**
   * Records in history that an ordered delivery waits behind `behindDeliveryId`. Only what history
   * shows depends on it, so a failure to record it is logged and the delivery goes on.
   */
  async recordWaiting(
    request: DeliveryRequest,
    attemptNumber: number,
    behindDeliveryId: string,
    origin: RecordOrigin | undefined,
  ): Promise<void> {
    const event = waitingEvent(request, attemptNumber, behindDeliveryId, new Date());
    try {
      await this.producer.send(deliveryEventContract, 'deliveryEvents', [event], { trusted: true, origin });
    } catch (error) {
      this.logger.warn(
        { deliveryId: request.deliveryId, behindDeliveryId, err: error },
        'could not record that an ordered delivery is waiting: history shows it once it is attempted',
      );
    }
  }

  private async recordSkip(
    request: DeliveryRequest,
    attemptNumber: number,
    skip: Skip,
    origin: RecordOrigin | undefined,
  ): Promise<void> {
    const event = skippedEvent(request, attemptNumber, skip, new Date());
    await this.producer.send(deliveryEventContract, 'deliveryEvents', [event], { trusted: true, origin });
    this.metrics.deliveriesSkipped.inc({ reason: skip.reason, disposition: skip.disposition });
  }
}

/**
 * A webhook attempt's span attributes (ADR 0035). The URL without its query or credentials: some
 * partners put a token there, and traces are read by more people than the subscription's owner.
 */
function webhookSpanAttributes(url: string, request: DeliveryRequest, attemptNumber: number): Attributes {
  const parsed = URL.parse(url);
  return {
    'http.request.method': 'POST',
    'url.full': parsed === null ? '' : `${parsed.protocol}//${parsed.host}${parsed.pathname}`,
    'server.address': parsed?.hostname ?? '',
    'skyhook.delivery.id': request.deliveryId,
    'skyhook.subscription.id': request.subscriptionId,
    'skyhook.organisation.id': request.organisationId,
    'skyhook.attempt.number': attemptNumber,
  };
}

function webhookSpanEnd(report: AttemptReport): OutgoingRequestEnd {
  return {
    attributes:
      report.kind === 'response'
        ? { 'http.response.status_code': report.status }
        : { 'error.type': report.errorCode, 'skyhook.attempt.outcome': report.kind },
    failed: !isSuccessfulAttempt(report),
  };
}

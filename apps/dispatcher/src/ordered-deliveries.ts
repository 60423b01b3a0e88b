import { Inject, Injectable } from '@nestjs/common';
import {
  type DeliveryRequest,
  type OrderedDeliveryRecord,
  type OrderedKeyRelease,
  orderedLaneOf,
} from '@skyhook/contracts';
import { type ConsumedRecord, KeySequencer, onAbort, SequenceAbandonedError } from '@skyhook/messaging';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { DeliveryDispatcher, type DispatchContext } from './delivery-dispatcher';
import { DISPATCHER_CONFIG, type DispatcherConfig } from './dispatcher.config';
import { DISPATCHER_METRICS, type DispatcherMetrics } from './dispatcher-metrics';
import { EndpointDirectory } from './endpoint-directory';

/** Skips that came before their head was held (a crash re-reads both): kept this long at most. */
const EARLY_SKIP_TTL_MS = 24 * 60 * 60 * 1_000;
const EARLY_SKIPS_MAX = 10_000;

interface HeldHead {
  readonly subscriptionId: string;
  readonly release: (release: OrderedKeyRelease) => void;
}

/**
 * Deliveries of ordered subscriptions (ADR 0031): per (subscription, ordering key), one at a
 * time, in the order of the ordered topic's partition, which is the order fan-out read the events
 * in. A delivery's retries wait in place, over its unfinished record, so the next one of its key
 * starts only once it was delivered or given up; other keys, on this partition or any other, go
 * on meanwhile. After a final failure the key follows its subscription's `afterFinalFailure`:
 * `skip` goes on at once, `hold` waits for the partner to resend or skip the failed delivery (a
 * release record on the same partition). A delivery that waits longer than
 * DISPATCH_ORDERED_WAITING_NOTICE_MS for the one before it of its key is recorded in history as
 * waiting behind that one.
 */
@Injectable()
export class OrderedDeliveries {
  /** One sequencer per partition assignment, known by the signal that ends that assignment. */
  private readonly sequencers = new WeakMap<AbortSignal, KeySequencer>();
  private readonly liveSequencers = new Set<KeySequencer>();
  private readonly heldHeads = new Map<string, HeldHead>();
  /** Skips that came before their delivery was held, by delivery id. */
  private readonly earlySkips = new Map<string, number>();

  constructor(
    private readonly dispatcher: DeliveryDispatcher,
    private readonly directory: EndpointDirectory,
    @Inject(DISPATCHER_METRICS) private readonly metrics: DispatcherMetrics,
    @Inject(DISPATCHER_CONFIG) private readonly config: DispatcherConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {}

  /** Keys with a delivery in hand (being sent, retrying, held, or waiting behind one). */
  get activeKeys(): number {
    let keys = 0;
    for (const sequencer of this.liveSequencers) keys += sequencer.activeKeys;
    return keys;
  }

  async handle(
    record: ConsumedRecord<OrderedDeliveryRecord>,
    stopping: AbortSignal,
    context: DispatchContext,
  ): Promise<void> {
    const value = record.value;
    let deliverInTurn: () => Promise<void>;
    let request: DeliveryRequest;
    let attemptNumber = 1;
    if (value.kind === 'release') {
      const { release } = value;
      if (this.releasedHead(release)) return;
      if (release.action !== 'resend' || release.request === undefined) return;
      // Not held here: sent again in its key's turn, behind what the key already has in hand.
      request = release.request;
      attemptNumber = release.attemptNumber ?? 1;
      deliverInTurn = () =>
        this.deliverInTurn(request, stopping, { ...context, afterUnknownOutcome: false }, attemptNumber);
    } else {
      request = value.request;
      deliverInTurn = () => this.deliverInTurn(value.request, stopping, context, 1);
    }
    const lane = orderedLaneOf(request.subscriptionId, request.orderingKey ?? '');
    const sequencer = this.sequencerOf(stopping);
    // Offered again after a failure, a record keeps its place and has waited its turn already.
    const behind = sequencer.offered(record) ? undefined : sequencer.latest(lane);
    let waitingNotice: NodeJS.Timeout | undefined;
    if (behind !== undefined) {
      this.metrics.orderedDeliveriesWaited.inc();
      waitingNotice = setTimeout(() => {
        waitingNotice = undefined;
        void this.dispatcher.recordWaiting(request, attemptNumber, behind, context.origin);
      }, this.config.DISPATCH_ORDERED_WAITING_NOTICE_MS);
    }
    const inTurn = sequencer.run(
      lane,
      record,
      () => {
        clearTimeout(waitingNotice);
        return deliverInTurn();
      },
      stopping,
      request.deliveryId,
    );
    this.metrics.orderedKeys.set({ state: 'active' }, this.activeKeys);
    try {
      await inTurn;
    } finally {
      clearTimeout(waitingNotice);
      this.metrics.orderedKeys.set({ state: 'active' }, this.activeKeys);
      this.metrics.orderedKeys.set({ state: 'held' }, this.heldHeads.size);
    }
  }

  private async deliverInTurn(
    request: DeliveryRequest,
    stopping: AbortSignal,
    context: DispatchContext,
    firstAttemptNumber: number,
  ): Promise<void> {
    const inPlace: DispatchContext = { ...context, retriesInPlace: true, queueBounds: undefined };
    let end = await this.dispatcher.deliver(request, firstAttemptNumber, stopping, inPlace);
    while (end.kind === 'failed' && this.holdsAfterFinalFailure(request.subscriptionId)) {
      const release = await this.held(request, stopping);
      this.metrics.orderedHeadsReleased.inc({ action: release.action });
      if (release.action === 'skip') {
        this.logger.info(
          { deliveryId: request.deliveryId, subscriptionId: request.subscriptionId },
          'held ordered delivery skipped by its partner: its key goes on',
        );
        return;
      }
      // Resent: the attempt the api reserved, once (the schedule is spent); failed again, held again.
      end = await this.dispatcher.deliver(
        request,
        Math.max(release.attemptNumber ?? 0, end.attemptNumber + 1),
        stopping,
        { ...inPlace, afterUnknownOutcome: false },
      );
    }
  }

  private holdsAfterFinalFailure(subscriptionId: string): boolean {
    const endpoint = this.directory.endpoint(subscriptionId, Date.now());
    return endpoint?.subscription.ordering?.afterFinalFailure === 'hold';
  }

  /** Waits, holding the key, for the partner's release of this delivery. */
  private held(request: DeliveryRequest, stopping: AbortSignal): Promise<OrderedKeyRelease> {
    if (this.earlySkips.delete(request.deliveryId)) {
      return Promise.resolve({
        subscriptionId: request.subscriptionId,
        organisationId: request.organisationId,
        orderingKey: request.orderingKey ?? '',
        deliveryId: request.deliveryId,
        action: 'skip',
        requestedAt: new Date().toISOString(),
      });
    }
    this.logger.warn(
      { deliveryId: request.deliveryId, subscriptionId: request.subscriptionId },
      'ordered delivery failed for good: its key is held until the partner resends or skips it',
    );
    return new Promise((resolve, reject) => {
      const stopListening = onAbort(stopping, () => {
        this.heldHeads.delete(request.deliveryId);
        reject(new SequenceAbandonedError());
      });
      this.metrics.orderedKeys.set({ state: 'held' }, this.heldHeads.size + 1);
      this.heldHeads.set(request.deliveryId, {
        subscriptionId: request.subscriptionId,
        release: (release) => {
          stopListening();
          this.heldHeads.delete(request.deliveryId);
          resolve(release);
        },
      });
    });
  }

  /**
   * Releases the held head the partner named; false when it is not held here. A skip that comes
   * before its delivery is held (a crash re-reads the head, which is retried again before it is
   * held) is kept for it, a day at most.
   */
  private releasedHead(release: OrderedKeyRelease): boolean {
    const head = this.heldHeads.get(release.deliveryId);
    if (head !== undefined && head.subscriptionId === release.subscriptionId) {
      head.release(release);
      return true;
    }
    if (release.action === 'skip') {
      const now = Date.now();
      for (const [deliveryId, at] of this.earlySkips) {
        if (now - at < EARLY_SKIP_TTL_MS && this.earlySkips.size < EARLY_SKIPS_MAX) break;
        this.earlySkips.delete(deliveryId);
      }
      this.earlySkips.set(release.deliveryId, now);
    }
    return false;
  }

  private sequencerOf(assignment: AbortSignal): KeySequencer {
    let sequencer = this.sequencers.get(assignment);
    if (sequencer === undefined) {
      const created = new KeySequencer();
      sequencer = created;
      this.sequencers.set(assignment, created);
      this.liveSequencers.add(created);
      onAbort(assignment, () => this.liveSequencers.delete(created));
    }
    return sequencer;
  }
}

import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { type DeliveryRequest, type InboundEvent, inboundEventContract } from '@skyhook/contracts';
import { OrganisationDirectory, planFanout, SubscriptionIndex } from '@skyhook/fanout';
import {
  type ConsumedRecord,
  ContractProducer,
  deadLetterOfConsumed,
  sendToDeadLetter,
} from '@skyhook/messaging';
import { DeliveryRequestProducers, type RequestOrigin } from './delivery-request-producers';
import { FANOUT_METRICS, type FanoutMetrics } from './fanout-metrics';

/**
 * Inbound events in, one delivery request per match out. The handler takes a run of
 * consecutive records of one partition and resolves only after their requests are
 * acknowledged by Kafka, so offsets are committed after the requests are durable: a crash in
 * between re-fans those events, with the same delivery ids.
 */
@Controller()
export class InboundEventsController {
  constructor(
    private readonly index: SubscriptionIndex,
    private readonly directory: OrganisationDirectory,
    private readonly producer: ContractProducer,
    private readonly requestProducers: DeliveryRequestProducers,
    @Inject(FANOUT_METRICS) private readonly metrics: FanoutMetrics,
  ) {}

  @EventPattern('inboundEvents')
  async fanOut(@Payload() records: ConsumedRecord<InboundEvent>[]): Promise<void> {
    const requests: DeliveryRequest[] = [];
    // Each request travels in its event's trace, so the dispatcher's log lines join the publish,
    // and a dead-lettered one names the record it came from.
    const originOfEvent = new Map<string, RequestOrigin>();
    for (const record of records) {
      const plan = planFanout(
        record.value,
        new Date(record.timestamp).toISOString(),
        this.index,
        this.directory,
      );
      if (plan.kind === 'reject') {
        await sendToDeadLetter(
          this.producer,
          'inboundEventsDeadLetter',
          deadLetterOfConsumed(record, plan.reason, plan.message),
        );
        this.metrics.events.inc({ outcome: plan.reason.toLowerCase() });
        continue;
      }
      for (const request of plan.requests) requests.push(request);
      originOfEvent.set(eventKeyOf(record.value.organisationId, record.value.id), {
        topicKey: record.topicKey,
        partition: record.partition,
        offset: record.offset,
        traceId: record.traceId,
        traceContext: record.traceContext,
      });
      this.metrics.events.inc({ outcome: plan.requests.length === 0 ? 'no_match' : 'matched' });
      this.metrics.matchesPerEvent.observe(plan.requests.length);
    }
    const deadLettered = await this.requestProducers.send(requests, (request) =>
      originOfEvent.get(eventKeyOf(request.organisationId, request.event.id)),
    );
    // Counted per kind, then added once each: a labelled increment per request is measurable here.
    const kinds = { send: 0, held: 0, test: 0 };
    for (const request of requests) {
      if (deadLettered.size > 0 && deadLettered.has(request)) continue;
      kinds[request.test ? 'test' : request.held ? 'held' : 'send'] += 1;
    }
    for (const [kind, count] of Object.entries(kinds)) {
      if (count > 0) this.metrics.deliveryRequests.inc({ kind }, count);
    }
  }
}

/** Event ids are unique per organisation, and one partition carries several organisations. */
function eventKeyOf(organisationId: string, eventId: string): string {
  return `${organisationId}\u0000${eventId}`;
}

export const INBOUND_ROUTE = { topicKey: 'inboundEvents', contract: inboundEventContract } as const;

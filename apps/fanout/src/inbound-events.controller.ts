import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { deliveryRequestContract, type InboundEvent, inboundEventContract } from '@skyhook/contracts';
import { OrganisationDirectory, planFanout, SubscriptionIndex } from '@skyhook/fanout';
import { type ConsumedRecord, ContractProducer, sendToDeadLetter } from '@skyhook/messaging';
import { FANOUT_METRICS, type FanoutMetrics } from './fanout-metrics';

/**
 * One inbound event in, one delivery request per match out. The handler resolves only after
 * the requests are acknowledged by Kafka, so the offset is committed after they are durable:
 * a crash in between re-fans the event, with the same delivery ids.
 */
@Controller()
export class InboundEventsController {
  constructor(
    private readonly index: SubscriptionIndex,
    private readonly directory: OrganisationDirectory,
    private readonly producer: ContractProducer,
    @Inject(FANOUT_METRICS) private readonly metrics: FanoutMetrics,
  ) {}

  @EventPattern('inboundEvents')
  async fanOut(@Payload() record: ConsumedRecord<InboundEvent>): Promise<void> {
    const plan = planFanout(
      record.value,
      new Date(record.timestamp).toISOString(),
      this.index,
      this.directory,
    );
    if (plan.kind === 'reject') {
      await sendToDeadLetter(this.producer, 'inboundEventsDeadLetter', {
        topicKey: record.topicKey,
        partition: record.partition,
        offset: record.offset,
        key: record.key,
        value: JSON.stringify(record.value),
        headers: record.headers,
        code: plan.reason,
        reason: plan.message,
      });
      this.metrics.events.inc({ outcome: plan.reason.toLowerCase() });
      return;
    }
    await this.producer.send(deliveryRequestContract, 'deliveryRequests', plan.requests);
    this.metrics.events.inc({ outcome: plan.requests.length === 0 ? 'no_match' : 'matched' });
    this.metrics.matchesPerEvent.observe(plan.requests.length);
    for (const request of plan.requests) {
      this.metrics.deliveryRequests.inc({ kind: request.test ? 'test' : request.held ? 'held' : 'send' });
    }
  }
}

export const INBOUND_ROUTE = { topicKey: 'inboundEvents', contract: inboundEventContract } as const;

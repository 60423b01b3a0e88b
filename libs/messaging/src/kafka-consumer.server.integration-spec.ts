import { Controller, type INestApplication, Injectable, Module } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { type Kafka } from 'kafkajs';
import { Registry } from 'prom-client';
import { inboundEventContract, type InboundEvent } from '@skyhook/contracts';
import { ObservabilityModule, ReadinessRegistry } from '@skyhook/observability';
import { pollUntil, testLogger } from '@skyhook/testing';
import { testKafkaClient, testKafkaSettings } from './test/kafka-test-settings';
import { type ConsumedRecord } from './consumed-records';
import { ContractProducer } from './contract-producer';
import { DEAD_LETTER_HEADERS, deadLetterTo } from './dead-letter';
import { type KafkaSettings, topicNameOf } from './kafka-config';
import { createKafkaConsumerServer } from './kafka-consumer.server.factory';
import { MessagingModule } from './messaging.module';

@Injectable()
class ReceivedEvents {
  readonly records: ConsumedRecord<InboundEvent>[] = [];
}

@Controller()
class InboundEventsController {
  constructor(private readonly received: ReceivedEvents) {}

  @EventPattern('inboundEvents')
  handle(@Payload() record: ConsumedRecord<InboundEvent>): Promise<void> {
    this.received.records.push(record);
    return Promise.resolve();
  }
}

describe('KafkaConsumerServer inside a Nest application', () => {
  let settings: KafkaSettings;
  let kafka: Kafka;
  let app: INestApplication;

  beforeEach(async () => {
    settings = testKafkaSettings({ KAFKA_PARTITIONS_INBOUND_EVENTS: '2' });
    kafka = testKafkaClient(settings);

    @Module({
      imports: [
        ObservabilityModule.forRoot({ registry: new Registry(), logger: testLogger() }),
        MessagingModule.forRoot({ settings, topics: ['inboundEvents', 'inboundEventsDeadLetter'] }),
      ],
      controllers: [InboundEventsController],
      providers: [ReceivedEvents],
    })
    class TestModule {}

    const moduleRef = await Test.createTestingModule({ imports: [TestModule] }).compile();
    app = moduleRef.createNestApplication(new FastifyAdapter(), { logger: false });
    app.connectMicroservice(
      {
        strategy: createKafkaConsumerServer(app, {
          group: 'nest-spec',
          routes: [{ topicKey: 'inboundEvents', contract: inboundEventContract }],
          handleRejected: deadLetterTo(app.get(ContractProducer), 'inboundEventsDeadLetter'),
        }),
      },
      { inheritAppConfig: true },
    );
    await app.init();
    await app.startAllMicroservices();
  });

  afterEach(async () => {
    await app.close();
  });

  it('routes valid records to the @EventPattern handler and dead-letters invalid ones with the reason', async () => {
    const producer = app.get(ContractProducer);
    const event: InboundEvent = {
      id: 'evt-1',
      type: 'FLIGHT_TIME_UPDATE',
      organisationId: 'org-1',
      scope: { operatorId: 'op-7' },
      occurredAt: '2026-11-23T10:00:00Z',
      data: { flightId: 'F-1' },
    };
    await producer.send(inboundEventContract, 'inboundEvents', [event]);
    await producer.sendRaw('inboundEvents', [{ key: 'org-1', value: '{"id":"evt-2","type":"x"}' }]);

    const received = app.get(ReceivedEvents);
    await pollUntil(() => received.records.length === 1, { description: 'valid event handled' });
    expect(received.records[0]?.value).toEqual(event);

    const deadLetters: { value: string; headers: Record<string, string> }[] = [];
    const reader = kafka.consumer({
      groupId: `${settings.topicPrefix}dead-letter-reader`,
      maxWaitTimeInMs: 200,
    });
    await reader.connect();
    await reader.subscribe({ topic: topicNameOf(settings, 'inboundEventsDeadLetter'), fromBeginning: true });
    await reader.run({
      eachMessage: ({ message }) => {
        const headers = Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
        );
        deadLetters.push({ value: message.value?.toString() ?? '', headers });
        return Promise.resolve();
      },
    });
    try {
      await pollUntil(() => deadLetters.length === 1, { description: 'dead letter produced' });
    } finally {
      await reader.disconnect();
    }
    expect(deadLetters[0]?.value).toBe('{"id":"evt-2","type":"x"}');
    expect(deadLetters[0]?.headers[DEAD_LETTER_HEADERS.code]).toBe('SCHEMA_MISMATCH');
    expect(deadLetters[0]?.headers[DEAD_LETTER_HEADERS.reason]).toContain('organisationId');
    expect(deadLetters[0]?.headers[DEAD_LETTER_HEADERS.sourceTopic]).toBe('inboundEvents');
  });

  it('reports the consumer group in readiness once it has joined', async () => {
    const readiness = app.get(ReadinessRegistry);
    const consumerCheck = readiness.checks.find((check) => check.name === 'consumer:nest-spec');
    expect(consumerCheck).toBeDefined();
    await pollUntil(
      async () => {
        await consumerCheck?.check();
        return true;
      },
      { description: 'consumer ready' },
    );
  });
});

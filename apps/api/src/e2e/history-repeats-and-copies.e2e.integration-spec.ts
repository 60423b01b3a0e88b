import { Kafka, logLevel } from 'kafkajs';
import {
  type DeliveryAttempted,
  type DeliveryEvent,
  deliveryEventContract,
  deliveryIdOf,
  type DeliveryRequest,
} from '@skyhook/contracts';
import { ContractProducer, provisionTopics } from '@skyhook/messaging';
import { pollUntil, type ServiceProcess, startService, testKafkaBrokers } from '@skyhook/testing';
import { type ApiTestApp, createOrganisation, startApiTestApp } from '../test/api-test-app';

const DAY = 86_400_000;

/**
 * The real history service projects delivery events produced to its topic, as the dispatcher
 * would after crashes and broker failures, into the api's database; the api shows the result.
 */
describe('end to end: history shows every request that went out, once, and each delivery once', () => {
  let api: ApiTestApp;
  let history: ServiceProcess;
  let kafka: Kafka;
  let producer: ContractProducer;
  let apiKey: string;
  let organisationId: string;

  beforeAll(async () => {
    api = await startApiTestApp({ systemClock: true });
    ({ apiKey, organisationId } = await createOrganisation(api));
    kafka = new Kafka({
      clientId: 'history-e2e',
      brokers: [...api.config.kafka.brokers],
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin();
    await admin.connect();
    await provisionTopics(admin, api.config.kafka, ['deliveryEvents', 'deliveryEventsDeadLetter']);
    await admin.disconnect();
    producer = new ContractProducer(kafka, api.config.kafka);
    await producer.connect();
    history = await startService('history', {
      KAFKA_BROKERS: testKafkaBrokers(),
      KAFKA_TOPIC_PREFIX: api.config.kafka.topicPrefix,
      KAFKA_SESSION_TIMEOUT_MS: '6000',
      DATABASE_URL: api.database.url,
      LOG_LEVEL: 'warn',
    });
  });

  afterAll(async () => {
    await history?.stop();
    await producer?.disconnect();
    await api?.close();
  });

  function request(publishedAt: string, eventId = 'evt_entered_twice'): DeliveryRequest {
    return {
      deliveryId: deliveryIdOf(organisationId, eventId, 'sub_e2e'),
      subscriptionId: 'sub_e2e',
      organisationId,
      event: { id: eventId, type: 'booking.created', scope: {}, occurredAt: publishedAt, data: { seats: 2 } },
      publishedAt,
      held: false,
      test: false,
    };
  }

  function attempt(
    of: DeliveryRequest,
    attemptNumber: number,
    attemptId: string,
    attemptedAt: number,
    status: number,
  ): DeliveryAttempted {
    const delivered = status === 200;
    return {
      type: 'DeliveryAttempted',
      deliveryId: of.deliveryId,
      subscriptionId: of.subscriptionId,
      organisationId: of.organisationId,
      eventId: of.event.id,
      eventType: of.event.type,
      test: false,
      publishedAt: of.publishedAt,
      request: attemptNumber === 1 ? of : null,
      attemptNumber,
      attemptId,
      attemptedAt: new Date(attemptedAt).toISOString(),
      durationMs: 20,
      url: 'https://hooks.example.com/skyhook',
      requestHeaders: { 'webhook-id': of.deliveryId },
      requestBodyBytes: 100,
      outcome: delivered ? 'success' : 'http-error',
      responseStatus: status,
      responseBody: delivered ? 'ok' : 'busy',
      errorCode: null,
      errorMessage: null,
      result: delivered ? 'delivered' : 'retry-scheduled',
      nextAttemptAt: delivered ? null : new Date(attemptedAt + 1_000).toISOString(),
    };
  }

  async function attemptsShown(deliveryId: string): Promise<Record<string, unknown>[]> {
    const response = await api.request({ method: 'GET', url: `/v1/deliveries/${deliveryId}`, key: apiKey });
    return response.status === 200 ? (response.body['attempts'] as Record<string, unknown>[]) : [];
  }

  /** Once history shows `count` attempts of the delivery: each one's number, id and repeat marks. */
  async function repeatMarksOnceShown(deliveryId: string, count: number): Promise<unknown[][]> {
    await pollUntil(async () => (await attemptsShown(deliveryId)).length === count, {
      timeoutMs: 40_000,
      intervalMs: 200,
      description: `${count} attempts in history`,
    });
    return (await attemptsShown(deliveryId)).map((shown) => [
      shown['attemptNumber'],
      shown['attemptId'],
      shown['repeated'],
      shown['repeatOf'],
    ]);
  }

  it('an event entered twice, on two days, with a request sent again and a record produced twice: one delivery, every request', async () => {
    // The same event entered a minute before midnight and again a minute after.
    const midnight = Math.floor(Date.now() / DAY) * DAY;
    const firstCopy = request(new Date(midnight - 60_000).toISOString());
    const secondCopy = request(new Date(midnight + 60_000).toISOString());
    const first = attempt(firstCopy, 1, 'att_first', midnight - 59_000, 503);
    await producer.send(deliveryEventContract, 'deliveryEvents', [first]);
    await pollUntil(async () => (await attemptsShown(firstCopy.deliveryId)).length === 1, {
      timeoutMs: 40_000,
      intervalMs: 200,
      description: 'the first attempt in history',
    });

    const events: DeliveryEvent[] = [
      // The first attempt's record again (a producer retried it after a broker failure).
      first,
      // The second copy's request went out too.
      attempt(secondCopy, 1, 'att_second_copy', midnight + 61_000, 503),
      // The retry, and the same retry sent again by a dispatcher that crashed before committing.
      attempt(firstCopy, 2, 'att_retry', midnight + 62_000, 200),
      attempt(firstCopy, 2, 'att_retry_sent_again', midnight + 63_000, 200),
    ];
    await producer.send(deliveryEventContract, 'deliveryEvents', events);
    expect(await repeatMarksOnceShown(firstCopy.deliveryId, 4)).toEqual([
      [1, 'att_first', false, null],
      [1, 'att_second_copy', true, 'recorded-attempt'],
      [2, 'att_retry', false, null],
      [2, 'att_retry_sent_again', true, 'recorded-attempt'],
    ]);
    const listed = await api.request({ method: 'GET', url: '/v1/deliveries?limit=100', key: apiKey });
    expect(listed.status).toBe(200);
    expect(listed.body['data']).toEqual([
      expect.objectContaining({
        id: firstCopy.deliveryId,
        publishedAt: firstCopy.publishedAt,
        status: 'delivered',
        attemptCount: 2,
      }),
    ]);
  });

  it('a request sent again after a dispatcher was killed before recording it: shown as possibly received before', async () => {
    const sent = request(new Date(Date.now() - 60_000).toISOString(), 'evt_unrecorded_first_request');
    // The killed dispatcher's request left no attempt event; the next dispatcher's is marked.
    const sentAgain = {
      ...attempt(sent, 1, 'att_after_kill', Date.now() - 50_000, 503),
      afterUnknownOutcome: true,
    };
    const retry = attempt(sent, 2, 'att_retry_after_kill', Date.now() - 40_000, 200);
    await producer.send(deliveryEventContract, 'deliveryEvents', [sentAgain, retry]);
    expect(await repeatMarksOnceShown(sent.deliveryId, 2)).toEqual([
      [1, 'att_after_kill', true, 'unrecorded-attempt'],
      [2, 'att_retry_after_kill', false, null],
    ]);
  });
});

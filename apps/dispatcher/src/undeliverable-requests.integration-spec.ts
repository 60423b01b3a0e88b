import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { CONSUMER_GROUPS, type DeliveryEvent, type DeliveryRequest, KAFKA_TOPICS } from '@skyhook/contracts';
import { consumerGroupIdOf, DEAD_LETTER_HEADERS, expectedPartitionOf, topicNameOf } from '@skyhook/messaging';
import {
  pollUntil,
  readTopic,
  type ServiceProcess,
  startWebhookReceiver,
  testKafkaBrokers,
  uniqueTopicPrefix,
  type WebhookReceiver,
} from '@skyhook/testing';
import { attemptsOf, DispatcherHarness } from './test/dispatcher-harness';

/** A subscription id whose requests share a partition with `subscriptionId`'s. */
function idOnTheSamePartition(subscriptionId: string, partitions: number): string {
  const partition = expectedPartitionOf({ key: subscriptionId }, partitions);
  for (;;) {
    const candidate = `sub_${randomBytes(6).toString('hex')}`;
    if (expectedPartitionOf({ key: candidate }, partitions) === partition) return candidate;
  }
}

describe('dispatcher: requests that can never succeed do not hold up their partition', () => {
  let harness: DispatcherHarness;
  let receiver: WebhookReceiver;
  let dispatcher: ServiceProcess;
  let deadLetters: Awaited<ReturnType<typeof readTopic>>;

  beforeAll(async () => {
    // One partition for the attempt events: every attempt of a burst lands in the same batch.
    harness = await DispatcherHarness.create({ KAFKA_PARTITIONS_DELIVERY_EVENTS: '1' });
    receiver = await startWebhookReceiver();
    await harness.organisation('org_test');
    deadLetters = await readTopic(
      harness.settings.brokers,
      topicNameOf(harness.settings, 'deliveryRequestsDeadLetter'),
    );
    dispatcher = await harness.startDispatcher();
  });

  afterAll(async () => {
    expect(await dispatcher.stop()).toBe(0);
    await deadLetters.stop();
    await receiver.close();
    await harness.close();
  });

  it('dead-letters a request whose endpoint cannot be compiled, with its reason, and delivers what follows on its partition', async () => {
    // A timeout the api would refuse: written to the log by an older api, or by hand.
    const broken = await harness.subscription(receiver.url('/broken'), { timeoutMs: 999_999 });
    const partitions = harness.settings.partitions.deliveryRequests;
    const neighbour = await harness.subscription(
      receiver.url('/neighbour'),
      {},
      { id: idOnTheSamePartition(broken.id, partitions) },
    );
    const [undeliverable] = await harness.publish(broken);
    const [following] = await harness.publish(neighbour);

    const [hook] = await receiver.waitForCount('/neighbour', 1, 30_000);
    expect(hook!.headers['webhook-id']).toBe(following!.deliveryId);
    const letter = await pollUntil(() => Promise.resolve(deadLetters.records[0]), {
      timeoutMs: 30_000,
      description: 'the undeliverable request in the dead-letter topic',
    });
    expect(JSON.parse(letter.value)).toEqual(undeliverable);
    expect(letter.headers).toMatchObject({
      [DEAD_LETTER_HEADERS.code]: 'INVALID_DELIVERY_POLICY_OVERRIDE',
      [DEAD_LETTER_HEADERS.sourceTopic]: 'deliveryRequests',
      [DEAD_LETTER_HEADERS.sourcePartition]: String(expectedPartitionOf({ key: broken.id }, partitions)),
    });
    expect(letter.headers[DEAD_LETTER_HEADERS.reason]).toContain('timeoutMs');
    expect(receiver.receivedOn('/broken')).toHaveLength(0);

    // The partition's committed offset passes both records: nothing is retried in place, and a
    // restart would not send the neighbour's webhook again.
    const kafka = new Kafka({ brokers: [...harness.settings.brokers], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const topic = topicNameOf(harness.settings, 'deliveryRequests');
      const partition = expectedPartitionOf({ key: broken.id }, partitions);
      const endOffset = await pollUntil(
        async () => {
          const [offsets] = await admin.fetchOffsets({
            groupId: consumerGroupIdOf(harness.settings, CONSUMER_GROUPS.dispatcher.name),
            topics: [topic],
          });
          const committed = offsets?.partitions.find((entry) => entry.partition === partition)?.offset;
          const latest = (await admin.fetchTopicOffsets(topic)).find(
            (entry) => entry.partition === partition,
          )?.high;
          return committed !== undefined && committed === latest ? committed : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 250, description: 'the partition committed to its end' },
      );
      expect(Number(endOffset)).toBeGreaterThanOrEqual(2);
    } finally {
      await admin.disconnect();
    }
  }, 120_000);

  it('delivers 256 KiB events to one subscription, more than a broker message of attempt events at once, each recorded', async () => {
    const large = await harness.subscription(receiver.url('/large'));
    const blob = 'x'.repeat(256 * 1_024);
    const requests: DeliveryRequest[] = [];
    // Three to a send: the requests topic takes record batches of a little over 1 MiB.
    for (let sent = 0; sent < 30; sent += 3) {
      requests.push(...(await harness.publish(large, 3, {}, { blob })));
    }

    const received = () => new Set(receiver.receivedOn('/large').map((hook) => hook.headers['webhook-id']));
    await pollUntil(() => received().size === requests.length, {
      timeoutMs: 90_000,
      intervalMs: 250,
      description: 'every large delivery received',
    });
    expect(received()).toEqual(new Set(requests.map((request) => request.deliveryId)));
    const events = await harness.waitForDeliveryEvents(
      (all) => requests.every((request) => attemptsOf(all, request.deliveryId).length >= 1),
      'an attempt event for every large delivery',
      90_000,
    );
    for (const request of requests) {
      const [attempt] = attemptsOf(events, request.deliveryId);
      expect(attempt).toMatchObject({ attemptNumber: 1, result: 'delivered' });
      expect(attempt!.request?.event.data['blob']).toBe(blob);
    }
    // Every webhook went out once: no attempt event was refused and its delivery retried.
    expect(receiver.receivedOn('/large')).toHaveLength(requests.length);
    expect(deadLetters.records.filter((record) => record.key === large.id)).toHaveLength(0);
  }, 180_000);
});

describe('dispatcher: a delivery events topic that refuses an attempt event as too large', () => {
  it('keeps the attempt event in its dead-letter topic, sends the webhook once and records the deliveries after it', async () => {
    // A topic created before the contracts set its size limit keeps the one it was created with
    // (here 300 kB): the broker itself refuses the attempt event of a 400 kB event.
    const prefix = uniqueTopicPrefix();
    const kafka = new Kafka({ brokers: testKafkaBrokers().split(','), logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({
      waitForLeaders: false,
      topics: [
        {
          topic: `${prefix}${KAFKA_TOPICS.deliveryEvents.name}`,
          numPartitions: 1,
          replicationFactor: 1,
          configEntries: [{ name: 'max.message.bytes', value: '300000' }],
        },
      ],
    });
    await admin.disconnect();
    const harness = await DispatcherHarness.create({
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_PARTITIONS_DELIVERY_EVENTS: '1',
    });
    const receiver = await startWebhookReceiver();
    const letters = await readTopic(
      harness.settings.brokers,
      topicNameOf(harness.settings, 'deliveryEventsDeadLetter'),
    );
    await harness.organisation('org_test');
    const dispatcher = await harness.startDispatcher();
    try {
      const subscription = await harness.subscription(receiver.url('/refused'));
      const [large] = await harness.publish(subscription, 1, {}, { blob: 'x'.repeat(400_000) });
      const [after] = await harness.publish(subscription);

      const events = await harness.waitForDeliveryEvents(
        (all) => attemptsOf(all, after!.deliveryId).length === 1,
        'the attempt event of the delivery after the large one',
        60_000,
      );
      const letter = await pollUntil(() => Promise.resolve(letters.records[0]), {
        timeoutMs: 30_000,
        description: 'the refused attempt event in the dead-letter topic',
      });
      const kept = JSON.parse(letter.value) as DeliveryEvent;
      expect(kept).toMatchObject({
        type: 'DeliveryAttempted',
        deliveryId: large!.deliveryId,
        result: 'delivered',
      });
      expect(letter.headers).toMatchObject({
        [DEAD_LETTER_HEADERS.code]: 'RECORD_TOO_LARGE',
        [DEAD_LETTER_HEADERS.sourceTopic]: 'deliveryRequests',
        [DEAD_LETTER_HEADERS.targetTopic]: 'deliveryEvents',
      });
      expect(attemptsOf(events, large!.deliveryId)).toHaveLength(0);
      // Each webhook went out once: the refusal did not fail the delivery and send it again.
      expect(
        receiver
          .receivedOn('/refused')
          .map((hook) => hook.headers['webhook-id'])
          .sort(),
      ).toEqual([large!.deliveryId, after!.deliveryId].sort());
    } finally {
      expect(await dispatcher.stop()).toBe(0);
      await letters.stop();
      await receiver.close();
      await harness.close();
    }
  }, 120_000);
});

import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { CONSUMER_GROUPS } from '@skyhook/contracts';
import { consumerGroupIdOf, DEAD_LETTER_HEADERS, expectedPartitionOf, topicNameOf } from '@skyhook/messaging';
import {
  pollUntil,
  readTopic,
  type ServiceProcess,
  startWebhookReceiver,
  type WebhookReceiver,
} from '@skyhook/testing';
import { DispatcherHarness } from './test/dispatcher-harness';

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
    harness = await DispatcherHarness.create();
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
});

import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';

export interface ReadRecord {
  readonly key: string | null;
  readonly value: string;
  readonly headers: Record<string, string>;
  readonly partition: number;
  readonly offset: string;
}

/**
 * Collects every record of a topic from its beginning into an array the test can poll, until
 * `stop` is called. Reads in a throw-away consumer group so it disturbs nothing.
 */
export async function readTopic(
  brokers: readonly string[],
  topic: string,
): Promise<{ records: ReadRecord[]; stop(): Promise<void> }> {
  const kafka = new Kafka({ clientId: 'test-reader', brokers: [...brokers], logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({
    groupId: `test-reader-${randomBytes(6).toString('hex')}`,
    maxWaitTimeInMs: 100,
  });
  const records: ReadRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: ({ partition, message }) => {
      records.push({
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? '',
        headers: Object.fromEntries(
          Object.entries(message.headers ?? {}).map(([name, value]) => [name, String(value)]),
        ),
        partition,
        offset: message.offset,
      });
      return Promise.resolve();
    },
  });
  return { records, stop: () => consumer.disconnect() };
}

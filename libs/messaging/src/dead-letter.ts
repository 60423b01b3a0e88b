import { type TopicKey } from '@skyhook/contracts';
import { type ContractProducer } from './contract-producer';
import { type RejectedRecord } from './contract-consumer';

export const DEAD_LETTER_HEADERS = {
  reason: 'skyhook-dead-letter-reason',
  code: 'skyhook-dead-letter-code',
  sourceTopic: 'skyhook-dead-letter-source-topic',
  sourcePartition: 'skyhook-dead-letter-source-partition',
  sourceOffset: 'skyhook-dead-letter-source-offset',
} as const;

export interface DeadLetter {
  readonly topicKey: TopicKey;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly code: string;
  readonly reason: string;
}

/**
 * Keeps a rejected record's original bytes and headers and adds why and where it came from,
 * so it can be inspected and re-driven; nothing a client sent is lost.
 */
export function sendToDeadLetter(
  producer: ContractProducer,
  deadLetterTopic: TopicKey,
  letter: DeadLetter,
): Promise<void> {
  return producer.sendRaw(deadLetterTopic, [
    {
      key: letter.key,
      value: letter.value,
      headers: {
        ...letter.headers,
        [DEAD_LETTER_HEADERS.reason]: letter.reason.slice(0, 2_000),
        [DEAD_LETTER_HEADERS.code]: letter.code,
        [DEAD_LETTER_HEADERS.sourceTopic]: letter.topicKey,
        [DEAD_LETTER_HEADERS.sourcePartition]: String(letter.partition),
        [DEAD_LETTER_HEADERS.sourceOffset]: letter.offset,
      },
    },
  ]);
}

/** The consumer's `handleRejected` for records that break their contract. */
export function deadLetterTo(
  producer: ContractProducer,
  deadLetterTopic: TopicKey,
): (record: RejectedRecord) => Promise<void> {
  return (record) =>
    sendToDeadLetter(producer, deadLetterTopic, {
      ...record,
      code: record.violation.code,
      reason: [record.violation.message, ...record.violation.details].join('; '),
    });
}

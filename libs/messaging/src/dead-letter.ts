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

/**
 * Keeps a rejected record's original bytes and headers and adds why and where it came from,
 * so it can be inspected and re-driven; nothing a client sent is lost.
 */
export function deadLetterTo(
  producer: ContractProducer,
  deadLetterTopic: TopicKey,
): (record: RejectedRecord) => Promise<void> {
  return (record) =>
    producer.sendRaw(deadLetterTopic, [
      {
        key: record.key,
        value: record.value,
        headers: {
          ...record.headers,
          [DEAD_LETTER_HEADERS.reason]: [record.violation.message, ...record.violation.details]
            .join('; ')
            .slice(0, 2_000),
          [DEAD_LETTER_HEADERS.code]: record.violation.code,
          [DEAD_LETTER_HEADERS.sourceTopic]: record.topicKey,
          [DEAD_LETTER_HEADERS.sourcePartition]: String(record.partition),
          [DEAD_LETTER_HEADERS.sourceOffset]: record.offset,
        },
      },
    ]);
}

import { type Message } from 'kafkajs';
import { type TopicKey } from '@skyhook/contracts';
import { type ContractProducer } from './contract-producer';
import { type ConsumedRecord, type RejectedRecord } from './consumed-records';
import { headersOf } from './contract-consumer';
import { isRecordTooLarge } from './produce-request-bounds';

export const DEAD_LETTER_HEADERS = {
  reason: 'skyhook-dead-letter-reason',
  code: 'skyhook-dead-letter-code',
  sourceTopic: 'skyhook-dead-letter-source-topic',
  sourcePartition: 'skyhook-dead-letter-source-partition',
  sourceOffset: 'skyhook-dead-letter-source-offset',
  /** Set when the record was never written where it was meant to go (e.g. too large for that topic). */
  targetTopic: 'skyhook-dead-letter-target-topic',
  /** Set when the record itself was too large even for the dead-letter topic and is left out. */
  omittedValueBytes: 'skyhook-dead-letter-omitted-value-bytes',
} as const;

/** The consumed record a produced record was made from: where a dead letter of it points back to. */
export interface RecordOrigin {
  readonly topicKey: TopicKey;
  readonly partition: number;
  readonly offset: string;
}

export interface DeadLetter {
  readonly topicKey: TopicKey;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | string | null;
  readonly value: Buffer | string | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly code: string;
  readonly reason: string;
  /** The topic the record was meant for, when it is a record that could not be written there. */
  readonly targetTopicKey?: TopicKey;
}

/**
 * Keeps a rejected record's original bytes and headers and adds why and where it came from,
 * so it can be inspected and re-driven; nothing a client sent is lost.
 */
export async function sendToDeadLetter(
  producer: ContractProducer,
  deadLetterTopic: TopicKey,
  letter: DeadLetter,
): Promise<void> {
  const headers: Record<string, string> = {
    ...letter.headers,
    [DEAD_LETTER_HEADERS.reason]: letter.reason.slice(0, 2_000),
    [DEAD_LETTER_HEADERS.code]: letter.code,
    [DEAD_LETTER_HEADERS.sourceTopic]: letter.topicKey,
    [DEAD_LETTER_HEADERS.sourcePartition]: String(letter.partition),
    [DEAD_LETTER_HEADERS.sourceOffset]: letter.offset,
  };
  if (letter.targetTopicKey !== undefined) headers[DEAD_LETTER_HEADERS.targetTopic] = letter.targetTopicKey;
  try {
    await producer.sendRaw(deadLetterTopic, [{ key: letter.key, value: letter.value, headers }]);
  } catch (error) {
    // Dead-letter topics take twice what any topic takes, so only a record that was never on a
    // Skyhook topic gets here. Refused, it would be retried for ever: the letter goes without its
    // value, which the source record it was made from still holds.
    if (!isRecordTooLarge(error) || letter.value === null) throw error;
    headers[DEAD_LETTER_HEADERS.omittedValueBytes] = String(
      typeof letter.value === 'string' ? Buffer.byteLength(letter.value) : letter.value.length,
    );
    await producer.sendRaw(deadLetterTopic, [{ key: letter.key, value: null, headers }]);
  }
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

/**
 * A decoded record set aside for `code` and `reason`, with the value's original bytes (as JSON
 * again only for a record built without them, as tests do).
 */
export function deadLetterOfConsumed(record: ConsumedRecord, code: string, reason: string): DeadLetter {
  return {
    topicKey: record.topicKey,
    partition: record.partition,
    offset: record.offset,
    key: record.key,
    value: record.rawValue ?? JSON.stringify(record.value),
    headers: record.headers,
    code,
    reason,
  };
}

/**
 * A record that could not be written to `targetTopicKey` because it is too large for it, as it
 * was encoded, pointing back to the consumed record it was made from (`origin`, when known).
 */
export function deadLetterOfTooLarge(
  message: Message,
  targetTopicKey: TopicKey,
  origin: RecordOrigin | undefined,
  reason: string,
): DeadLetter {
  return {
    topicKey: origin?.topicKey ?? targetTopicKey,
    partition: origin?.partition ?? -1,
    offset: origin?.offset ?? '-1',
    key: message.key ?? null,
    value: message.value ?? null,
    headers: headersOf(message.headers),
    code: 'RECORD_TOO_LARGE',
    reason,
    targetTopicKey,
  };
}

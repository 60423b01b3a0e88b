import { type Context } from '@opentelemetry/api';
import { type ContractViolationError, type DecodableContract, type TopicKey } from '@skyhook/contracts';

// The records a consumer hands its handlers, and its state: shared by the consumer and its
// record intake without either importing the other.

/** A record that satisfied its contract. */
export interface ConsumedRecord<TValue = unknown> {
  readonly topicKey: TopicKey;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: TValue;
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly traceId: string;
  /**
   * With OpenTelemetry on, in a batched handler's records: the context of the record's span, for
   * what is produced on its behalf later in the call (ADR 0035).
   */
  readonly traceContext?: Context | undefined;
  /**
   * An earlier owner of the partition may have handled this record (its work done, its offset
   * not committed) before it stopped: set by a `ConcurrentConsumer` with a dispatch frontier.
   */
  readonly possiblyHandledBefore?: true;
  /**
   * The value's bytes as they were read (a reference, not a copy): what a dead letter of the
   * record keeps, so that it holds the original bytes rather than the value encoded again.
   */
  readonly rawValue?: Buffer | null;
}

/** A record that did not: the raw bytes and why, for a dead-letter topic. */
export interface RejectedRecord {
  readonly topicKey: TopicKey;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: Readonly<Record<string, string>>;
  readonly violation: ContractViolationError;
}

export interface ConsumerRoute {
  readonly topicKey: TopicKey;
  readonly contract: DecodableContract<unknown>;
  /**
   * The handler is given each record's value undecoded (its bytes) and decodes it against
   * `contract` itself (on another thread, say); it names the records that break the contract
   * in its answer (`HandledRecords`), and those are rejected as if the consumer had found them.
   * Batched handlers (`handleRecords`) only.
   */
  readonly handlerDecodes?: boolean;
}

/** A batched handler's answer for a route whose handler decodes: the records that broke the contract. */
export interface HandledRecords {
  readonly rejected: readonly { readonly index: number; readonly violation: ContractViolationError }[];
}

/** Where a consumer is in its life. */
export type ConsumerState = 'idle' | 'joining' | 'consuming' | 'stopped' | 'crashed';

import { type z } from 'zod';
import { ContractViolationCode, ContractViolationError } from './contract-violation.error';
import { type JsonSchemaAcceptor } from './json-schema-acceptor';
import { type TopicDefinition } from './topics';

/**
 * Header names Skyhook sets on the records it produces. Values are always JSON, which the
 * schema header implies, so no content-type header is sent: kafkajs builds each header in a
 * buffer of its own, and at fan-out's rates a constant header was a tenth of its CPU.
 */
export const MESSAGE_HEADERS = {
  schema: 'skyhook-schema',
  traceId: 'skyhook-trace-id',
} as const;

/**
 * A topic, the schema of its values and how its key is derived: producers and consumers
 * share this one object, so they cannot disagree about the wire format.
 */
export interface MessageContract<TValue> {
  readonly topic: TopicDefinition;
  /** Stable schema id carried in the `skyhook-schema` header, e.g. `inbound-event`. */
  readonly schemaId: string;
  readonly schemaVersion: number;
  readonly schema: z.ZodType<TValue>;
  /** The partitioning key: records with the same key stay in order. */
  readonly keyOf: (value: TValue) => string;
  /**
   * For the busiest topics: the schema compiled into a faster validator that only ever accepts
   * (`compileJsonSchemaAcceptor`). A record it accepts is used as decoded; any other goes to
   * `schema`, which decides.
   */
  readonly acceptFast?: JsonSchemaAcceptor;
}

/** What a consumer needs to read a record: its schema and schema version. */
export type DecodableContract<TValue> = Pick<
  MessageContract<TValue>,
  'schemaId' | 'schemaVersion' | 'schema' | 'acceptFast'
>;

export function defineMessageContract<TValue>(contract: MessageContract<TValue>): MessageContract<TValue> {
  return contract;
}

export function schemaHeaderOf(
  contract: Pick<MessageContract<unknown>, 'schemaId' | 'schemaVersion'>,
): string {
  return `${contract.schemaId}.v${contract.schemaVersion}`;
}

export interface EncodedMessage {
  readonly key: string;
  readonly value: Buffer;
  readonly headers: Record<string, string>;
}

/** Validates before encoding, so an invalid record never reaches the broker. */
export function encodeMessage<TValue>(contract: MessageContract<TValue>, value: TValue): EncodedMessage {
  const parsed = contract.schema.safeParse(value);
  if (!parsed.success) {
    throw new ContractViolationError(
      ContractViolationCode.SchemaMismatch,
      `${contract.schemaId} does not match its schema`,
      describeIssues(parsed.error),
    );
  }
  return {
    key: contract.keyOf(parsed.data),
    value: Buffer.from(JSON.stringify(parsed.data)),
    headers: { [MESSAGE_HEADERS.schema]: schemaHeaderOf(contract) },
  };
}

/** Encodes without validating: for values built in process from input already validated. */
export function encodeTrustedMessage<TValue>(
  contract: MessageContract<TValue>,
  value: TValue,
): EncodedMessage {
  return {
    key: contract.keyOf(value),
    value: Buffer.from(JSON.stringify(value)),
    headers: { [MESSAGE_HEADERS.schema]: schemaHeaderOf(contract) },
  };
}

/**
 * Decodes and validates a consumed record. A record without a schema header is read as the
 * current version: domain services may produce plain JSON to the inbound topic.
 */
export function decodeMessage<TValue>(
  contract: DecodableContract<TValue>,
  value: Buffer | null,
  schemaHeader: string | undefined,
): TValue {
  if (schemaHeader !== undefined && schemaHeader !== schemaHeaderOf(contract)) {
    throw new ContractViolationError(
      ContractViolationCode.UnsupportedSchemaVersion,
      `record declares schema ${schemaHeader}; this consumer reads ${schemaHeaderOf(contract)}`,
    );
  }
  if (value === null || value.length === 0) {
    throw new ContractViolationError(ContractViolationCode.MalformedJson, 'record has no value');
  }
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (error) {
    throw new ContractViolationError(
      ContractViolationCode.MalformedJson,
      `record value is not JSON: ${(error as Error).message}`,
    );
  }
  if (contract.acceptFast?.(json) === true) return json as TValue;
  const parsed = contract.schema.safeParse(json);
  if (!parsed.success) {
    throw new ContractViolationError(
      ContractViolationCode.SchemaMismatch,
      `record does not match ${schemaHeaderOf(contract)}`,
      describeIssues(parsed.error),
    );
  }
  return parsed.data;
}

function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
}

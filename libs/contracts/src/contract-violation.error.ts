import { CodedError } from './coded-error';

export enum ContractViolationCode {
  MalformedJson = 'MALFORMED_JSON',
  SchemaMismatch = 'SCHEMA_MISMATCH',
  UnsupportedSchemaVersion = 'UNSUPPORTED_SCHEMA_VERSION',
  MissingKey = 'MISSING_KEY',
}

/** A record that does not satisfy its topic's contract. Consumers dead-letter it; they never crash on it. */
export class ContractViolationError extends CodedError<ContractViolationCode, readonly string[]> {
  constructor(code: ContractViolationCode, message: string, details: readonly string[] = []) {
    super(code, message, details);
  }
}

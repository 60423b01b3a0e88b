export enum ContractViolationCode {
  MalformedJson = 'MALFORMED_JSON',
  SchemaMismatch = 'SCHEMA_MISMATCH',
  UnsupportedSchemaVersion = 'UNSUPPORTED_SCHEMA_VERSION',
  MissingKey = 'MISSING_KEY',
}

/** A record that does not satisfy its topic's contract. Consumers dead-letter it; they never crash on it. */
export class ContractViolationError extends Error {
  constructor(
    readonly code: ContractViolationCode,
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
    this.name = 'ContractViolationError';
  }
}

import { ContractViolationCode, ContractViolationError } from './contract-violation.error';
import { inboundEventContract, type InboundEvent } from './inbound-event.contract';
import { decodeMessage, encodeMessage, MESSAGE_HEADERS } from './message-contract';

const event: InboundEvent = {
  id: 'evt_1',
  type: 'booking.created',
  organisationId: 'org_1',
  scope: { centerId: 'ctr-9' },
  occurredAt: '2026-05-31T14:03:22.000Z',
  data: { bookingId: 'b-1', seats: 2 },
};

function violationOf(work: () => unknown): ContractViolationError {
  try {
    work();
  } catch (error) {
    if (error instanceof ContractViolationError) return error;
    throw error;
  }
  throw new Error('expected a contract violation');
}

describe('message contracts', () => {
  it('round-trips a valid value with its key and schema header', () => {
    const encoded = encodeMessage(inboundEventContract, event);
    expect(encoded.key).toBe('org_1');
    expect(encoded.headers[MESSAGE_HEADERS.schema]).toBe('inbound-event.v1');
    expect(
      decodeMessage(inboundEventContract, encoded.value, encoded.headers[MESSAGE_HEADERS.schema]),
    ).toEqual(event);
  });

  it('reads a record without a schema header as the current version', () => {
    const raw = Buffer.from(JSON.stringify({ ...event, scope: undefined }));
    expect(decodeMessage(inboundEventContract, raw, undefined).scope).toEqual({});
  });

  it('refuses to encode an invalid value, naming the field', () => {
    const violation = violationOf(() =>
      encodeMessage(inboundEventContract, { ...event, occurredAt: 'yesterday' }),
    );
    expect(violation.code).toBe(ContractViolationCode.SchemaMismatch);
    expect(violation.details.join()).toContain('occurredAt');
  });

  it('rejects a value that is not JSON', () => {
    const violation = violationOf(() =>
      decodeMessage(inboundEventContract, Buffer.from('{"id": '), undefined),
    );
    expect(violation.code).toBe(ContractViolationCode.MalformedJson);
  });

  it('rejects an empty or tombstone value', () => {
    expect(violationOf(() => decodeMessage(inboundEventContract, null, undefined)).code).toBe(
      ContractViolationCode.MalformedJson,
    );
  });

  it('rejects a record declaring a schema version this consumer does not read', () => {
    const raw = encodeMessage(inboundEventContract, event).value;
    const violation = violationOf(() => decodeMessage(inboundEventContract, raw, 'inbound-event.v2'));
    expect(violation.code).toBe(ContractViolationCode.UnsupportedSchemaVersion);
  });

  it('rejects unknown top-level fields instead of silently dropping them', () => {
    const raw = Buffer.from(JSON.stringify({ ...event, tenant: 'other' }));
    expect(violationOf(() => decodeMessage(inboundEventContract, raw, undefined)).code).toBe(
      ContractViolationCode.SchemaMismatch,
    );
  });

  it('rejects identifiers that could break keys, headers or logs', () => {
    for (const id of ['', 'a b', 'line\nbreak', 'x'.repeat(129), '../etc']) {
      const raw = Buffer.from(JSON.stringify({ ...event, id }));
      expect(violationOf(() => decodeMessage(inboundEventContract, raw, undefined)).code).toBe(
        ContractViolationCode.SchemaMismatch,
      );
    }
  });
});

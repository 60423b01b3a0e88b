import { type ConsumedRecord } from './consumed-records';
import { deadLetterOfConsumed } from './dead-letter';

const record = (overrides: Partial<ConsumedRecord>): ConsumedRecord => ({
  topicKey: 'inboundEvents',
  partition: 3,
  offset: '42',
  key: 'org_1',
  value: { a: 1, big: 1.5 },
  timestamp: 0,
  headers: { 'skyhook-schema': 'inbound-event@1' },
  traceId: 'trace-1',
  ...overrides,
});

describe('deadLetterOfConsumed', () => {
  it('keeps the bytes the record was read with, not the value encoded again', () => {
    // Key order, spacing and number spelling that a parse and a stringify would change.
    const original = Buffer.from('{ "big": 1.50, "a": 1 }');
    const letter = deadLetterOfConsumed(
      record({ rawValue: original }),
      'NO_SUCH_ORGANISATION',
      'unknown organisation',
    );
    expect(letter.value).toBe(original);
    expect(letter).toMatchObject({
      topicKey: 'inboundEvents',
      partition: 3,
      offset: '42',
      key: 'org_1',
      code: 'NO_SUCH_ORGANISATION',
      reason: 'unknown organisation',
      headers: { 'skyhook-schema': 'inbound-event@1' },
    });
  });

  it('encodes the value again only for a record built without its bytes', () => {
    expect(deadLetterOfConsumed(record({}), 'CODE', 'why').value).toBe('{"a":1,"big":1.5}');
  });
});

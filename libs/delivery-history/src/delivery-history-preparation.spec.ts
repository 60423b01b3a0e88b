import {
  ContractViolationCode,
  type DeliveryEvent,
  deliveryEventContract,
  encodeMessage,
  MESSAGE_HEADERS,
} from '@skyhook/contracts';
import { attempted, deliveryRequest, PUBLISHED_AT, skipped } from '@skyhook/testing';
import { planHistoryBatch } from './delivery-history-batch';
import {
  type EncodedDeliveryEvent,
  finalFailuresOf,
  packDeliveryEvents,
  prepareHistoryBatch,
  unpackDeliveryEvents,
  violationOf,
} from './delivery-history-preparation';
import { copyFormOf } from './delivery-history-rows';

const DAY_MS = 86_400_000;
const KEEP_ALL = Number.NEGATIVE_INFINITY;

function encoded(event: DeliveryEvent): EncodedDeliveryEvent {
  const message = encodeMessage(deliveryEventContract, event);
  return { value: message.value, schema: message.headers[MESSAGE_HEADERS.schema] };
}

describe('packing delivery events for the preparation thread', () => {
  it('copies only each value’s own bytes, keeps the order, a missing value and the schemas', () => {
    // Consumed values are views into one large fetch buffer.
    const fetched = Buffer.from('xx{"a":1}yy{"b":"é"}zz');
    const records: EncodedDeliveryEvent[] = [
      { value: fetched.subarray(2, 9), schema: 'delivery-event.v1' },
      { value: null, schema: undefined },
      { value: fetched.subarray(11, 21), schema: undefined },
      { value: Buffer.alloc(0), schema: 'other.v9' },
    ];
    const packed = packDeliveryEvents(records);
    expect(packed.bytes.byteLength).toBe(7 + 10);
    const unpacked = unpackDeliveryEvents(packed);
    expect(unpacked.map((record) => record.value?.toString() ?? null)).toEqual([
      '{"a":1}',
      null,
      '{"b":"é"}',
      '',
    ]);
    expect(unpacked.map((record) => record.schema)).toEqual([
      'delivery-event.v1',
      undefined,
      undefined,
      'other.v9',
    ]);
  });
});

describe('preparing a call of delivery events', () => {
  const first = deliveryRequest(1);
  const second = deliveryRequest(2);
  const retry = attempted(first, 1, 'retry-scheduled');
  const delivered = attempted(first, 2, 'delivered');
  const held = skipped(second, 1, 'held');
  const events = [retry, delivered, held];

  it('gives the rows and counts planning the decoded events gives', () => {
    const prepared = prepareHistoryBatch(events.map(encoded), KEEP_ALL);
    const planned = planHistoryBatch(events, KEEP_ALL);
    expect(prepared.broken).toEqual([]);
    expect(prepared.rows).toEqual(copyFormOf(planned));
    expect(prepared.days).toEqual([...planned.days]);
    expect(prepared).toMatchObject({ attempted: 2, skipped: 1, expired: 0 });
    expect(prepared.statusTimesMs).toEqual([
      Date.parse(retry.attemptedAt),
      Date.parse(delivered.attemptedAt),
      Date.parse(PUBLISHED_AT) + 1_000,
    ]);
  });

  it('names each record that breaks the contract by its place and reason, and prepares the rest', () => {
    const records: EncodedDeliveryEvent[] = [
      encoded(retry),
      { value: Buffer.from('{not json'), schema: undefined },
      encoded(delivered),
      { value: Buffer.from(JSON.stringify({ ...events[1], attemptNumber: -1 })), schema: undefined },
      { value: encoded(held).value, schema: 'delivery-event.v0' },
      { value: null, schema: undefined },
    ];
    const prepared = prepareHistoryBatch(records, KEEP_ALL);
    expect(prepared.broken.map(({ index, code }) => ({ index, code }))).toEqual([
      { index: 1, code: ContractViolationCode.MalformedJson },
      { index: 3, code: ContractViolationCode.SchemaMismatch },
      { index: 4, code: ContractViolationCode.UnsupportedSchemaVersion },
      { index: 5, code: ContractViolationCode.MalformedJson },
    ]);
    const [, schemaMismatch] = prepared.broken;
    if (schemaMismatch === undefined) throw new Error('the mismatch is named');
    const mismatch = violationOf(schemaMismatch);
    expect(mismatch.code).toBe(ContractViolationCode.SchemaMismatch);
    expect(mismatch.details.join(' ')).toContain('attemptNumber');
    expect(prepared.rows).toEqual(copyFormOf(planHistoryBatch(events.slice(0, 2), KEEP_ALL)));
  });

  it('leaves events of days retention dropped out of the rows and the delay', () => {
    const old = deliveryRequest(3, new Date(Date.parse(PUBLISHED_AT) - 40 * DAY_MS).toISOString());
    const prepared = prepareHistoryBatch(
      [encoded(attempted(old, 1, 'delivered')), encoded(retry)],
      Date.parse(PUBLISHED_AT) - 30 * DAY_MS,
    );
    expect(prepared).toMatchObject({ attempted: 1, expired: 1 });
    expect(prepared.statusTimesMs).toEqual([Date.parse(retry.attemptedAt)]);
    expect(prepared.rows.days.map((day) => day.dayMs)).toEqual(prepared.days);
  });
});

describe('final failures, for skyhook.delivery.failed', () => {
  it("are the attempts that ended a delivery for good, leaving out test deliveries and Skyhook's own notifications", () => {
    const failing = deliveryRequest(1);
    const retried = deliveryRequest(2);
    const test = { ...deliveryRequest(3), test: true };
    const notification = {
      ...deliveryRequest(4),
      event: { ...deliveryRequest(4).event, type: 'skyhook.subscription.disabled' },
    };
    const events: DeliveryEvent[] = [
      attempted(failing, 1, 'retry-scheduled'),
      attempted(failing, 2, 'failed'),
      attempted(retried, 1, 'retry-scheduled'),
      attempted(test, 1, 'failed'),
      attempted(notification, 1, 'failed'),
    ];
    expect(finalFailuresOf(events)).toEqual([
      expect.objectContaining({ deliveryId: failing.deliveryId, attemptNumber: 2, responseStatus: 503 }),
    ]);
  });
});

import { ContractViolationCode, ContractViolationError } from './contract-violation.error';
import {
  type DeliveryAttempted,
  deliveryEventContract,
  deliveryEventSchema,
  type DeliverySkipped,
  type DeliveryWaiting,
} from './delivery-event.contract';
import { decodeMessage } from './message-contract';

const published = '2026-11-20T10:00:00.000Z';

const firstAttempt: DeliveryAttempted = {
  type: 'DeliveryAttempted',
  deliveryId: 'del_1',
  subscriptionId: 'sub_1',
  organisationId: 'org_1',
  eventId: 'evt_1',
  eventType: 'booking.created',
  test: false,
  publishedAt: published,
  request: {
    deliveryId: 'del_1',
    subscriptionId: 'sub_1',
    organisationId: 'org_1',
    event: {
      id: 'evt_1',
      type: 'booking.created',
      scope: { centerId: 'ctr_1' },
      occurredAt: published,
      data: { bookingId: 'b1', seats: 2, nested: { list: [1, 'two', null] } },
    },
    publishedAt: published,
    held: false,
    test: false,
  },
  attemptNumber: 1,
  attemptId: 'att_3f2b9c1e-8a4d-4e7f-9b0c-5d6e7f8a9b0c',
  attemptedAt: '2026-11-20T10:00:01.250+02:00',
  durationMs: 41.7,
  url: 'https://hooks.example.com/skyhook',
  requestHeaders: { 'content-type': 'application/json', 'webhook-id': 'del_1' },
  requestBodyBytes: 312,
  outcome: 'http-error',
  responseStatus: 503,
  responseBody: 'unavailable',
  errorCode: null,
  errorMessage: null,
  result: 'retry-scheduled',
  nextAttemptAt: '2026-11-20T10:00:31.000Z',
};

/** A retry: no request, as every attempt after the first. */
const laterAttempt: DeliveryAttempted = { ...firstAttempt, request: null, attemptNumber: 2 };

/** An attempt as the dispatcher produced it before attempts had ids (still in the topic). */
const { attemptId: _, ...attemptWithoutId } = laterAttempt;
const attemptBeforeIds: DeliveryAttempted = attemptWithoutId;

/** A request sent again after a dispatcher stopped without recording whether it had sent it. */
const attemptAfterUnknownOutcome: DeliveryAttempted = { ...firstAttempt, afterUnknownOutcome: true };

const skip: DeliverySkipped = {
  type: 'DeliverySkipped',
  deliveryId: 'del_2',
  subscriptionId: 'sub_1',
  organisationId: 'org_1',
  eventId: 'evt_2',
  eventType: 'FLIGHT_CREATE',
  test: true,
  publishedAt: published,
  request: null,
  skippedAt: published,
  reason: 'subscription-disabled',
  disposition: 'held',
  attemptNumber: 3,
};

/** An ordered delivery recorded as waiting for the one before it of its key. */
const waiting: DeliveryWaiting = {
  type: 'DeliveryWaiting',
  deliveryId: 'del_1',
  subscriptionId: 'sub_1',
  organisationId: 'org_1',
  eventId: 'evt_1',
  eventType: 'booking.created',
  test: false,
  publishedAt: published,
  request: firstAttempt.request,
  behindDeliveryId: 'del_0',
  waitingSince: '2026-11-20T10:00:01.000Z',
  attemptNumber: 1,
};

/** Values put in every place of a valid record: types, boundaries of every limit, formats, enums. */
const REPLACEMENTS: readonly unknown[] = [
  undefined,
  null,
  true,
  0,
  -1,
  1,
  1.5,
  99,
  100,
  999,
  1_000,
  2_147_483_647,
  2_147_483_648,
  Number.MAX_SAFE_INTEGER + 2,
  '',
  'a',
  'a b',
  'line\nbreak',
  '../etc',
  '1abc',
  'booking.created',
  'booking..created',
  'FLIGHT_CREATE',
  'success',
  'delivered',
  'held',
  'bogus',
  'DeliveryAttempted',
  'DeliverySkipped',
  '2024-02-29T00:00:00Z',
  '2026-02-29T00:00:00Z',
  '2026-11-20T24:00:00Z',
  '2026-11-20T10:00:00',
  '2026-11-20 10:00:00Z',
  '2026-11-20T10:00:00.123456+05:30',
  ...[63, 64, 99, 100, 119, 120, 121, 127, 128, 129, 999, 1_000, 1_001, 2_048, 2_049, 4_096, 4_097].map(
    (length) => 'x'.repeat(length),
  ),
  // One code point, two UTF-16 units each: limits count code points, in zod as in ajv.
  ...[50, 60, 64, 65, 500, 501, 1_024, 1_025, 2_048, 2_049].map((count) => '😀'.repeat(count)),
  [],
  ['a'],
  {},
  { centerId: 'ctr_2' },
  { '1bad': 'x' },
  { ok: 1 },
  Object.fromEntries(Array.from({ length: 16 }, (_, index) => [`key${index}`, 'v'])),
  Object.fromEntries(Array.from({ length: 17 }, (_, index) => [`key${index}`, 'v'])),
];

/** Every place in `value`, objects and arrays included, as paths. */
function placesOf(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  const places = path.length === 0 ? [] : [path];
  if (Array.isArray(value))
    return [...places, ...value.flatMap((item, index) => placesOf(item, [...path, index]))];
  if (typeof value === 'object' && value !== null) {
    return [...places, ...Object.entries(value).flatMap(([key, member]) => placesOf(member, [...path, key]))];
  }
  return places;
}

function isObjectAt(record: unknown, path: (string | number)[]): boolean {
  let value = record;
  for (const step of path) value = (value as Record<string | number, unknown>)[step];
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `record` with `replacement` at `path` (undefined removes it), as JSON would carry it. */
function replaced(record: unknown, path: (string | number)[], replacement: unknown): unknown {
  const copy = structuredClone(record) as Record<string | number, unknown>;
  let parent = copy;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  if (replacement === undefined) delete parent[last];
  else parent[last] = replacement;
  return JSON.parse(JSON.stringify(copy)) as unknown;
}

function decode(value: object): unknown {
  return decodeMessage(deliveryEventContract, Buffer.from(JSON.stringify(value)), undefined);
}

describe('delivery event contract', () => {
  it('bounds what history keeps in integer columns, so a larger value is dead-lettered, not retried for ever', () => {
    expect(
      decode({ ...laterAttempt, attemptNumber: 2_147_483_647, requestBodyBytes: 2_147_483_647 }),
    ).toEqual({
      ...laterAttempt,
      attemptNumber: 2_147_483_647,
      requestBodyBytes: 2_147_483_647,
    });
    for (const tooLarge of [{ attemptNumber: 2_147_483_648 }, { requestBodyBytes: 2_147_483_648 }]) {
      let violation: unknown;
      try {
        decode({ ...laterAttempt, ...tooLarge });
      } catch (error) {
        violation = error;
      }
      expect(violation).toBeInstanceOf(ContractViolationError);
      expect((violation as ContractViolationError).code).toBe(ContractViolationCode.SchemaMismatch);
    }
  });

  it('decodes an ordered delivery waiting behind another, naming that one', () => {
    expect(decode(waiting)).toEqual(waiting);
    expect(deliveryEventSchema.safeParse({ ...waiting, behindDeliveryId: '' }).success).toBe(false);
    expect(deliveryEventSchema.safeParse({ ...waiting, attemptNumber: 0 }).success).toBe(false);
  });

  it('decodes an attempt without an attempt id, as produced before attempts had one', () => {
    expect(decode(attemptBeforeIds)).toEqual(attemptBeforeIds);
    expect(deliveryEventSchema.safeParse({ ...laterAttempt, attemptId: '' }).success).toBe(false);
  });

  it('decodes an attempt marked as following a dispatch whose outcome is unknown, and one without the mark', () => {
    expect(decode(attemptAfterUnknownOutcome)).toEqual(attemptAfterUnknownOutcome);
    expect(decode(firstAttempt)).not.toHaveProperty('afterUnknownOutcome');
    expect(deliveryEventSchema.safeParse({ ...firstAttempt, afterUnknownOutcome: 'yes' }).success).toBe(
      false,
    );
  });

  describe('its JSON Schema acceptor', () => {
    const accept = deliveryEventContract.acceptFast ?? (() => false);

    it('gives zod’s verdict on valid records and on every replacement in every place of them', () => {
      const disagreements: string[] = [];
      let refused = 0;
      let cases = 0;
      for (const record of [
        firstAttempt,
        laterAttempt,
        attemptBeforeIds,
        attemptAfterUnknownOutcome,
        skip,
        waiting,
      ]) {
        const candidates: [string, unknown][] = [
          ['as it is', record],
          ['with an extra key', { ...record, extra: 1 }],
          ...placesOf(record).flatMap((path): [string, unknown][] => [
            ...(isObjectAt(record, path)
              ? [
                  [`${path.join('.')} with an extra key`, replaced(record, [...path, 'extra'], 1)] as [
                    string,
                    unknown,
                  ],
                ]
              : []),
            ...REPLACEMENTS.map((replacement): [string, unknown] => [
              `${path.join('.')} = ${String(JSON.stringify(replacement)).slice(0, 40)}`,
              replaced(record, path, replacement),
            ]),
          ]),
        ];
        for (const [change, candidate] of candidates) {
          cases += 1;
          const byZod = deliveryEventSchema.safeParse(candidate).success;
          if (!byZod) refused += 1;
          if (accept(candidate) !== byZod)
            disagreements.push(`${record.type} ${change}: zod ${byZod ? 'accepts' : 'refuses'}`);
        }
      }
      expect(disagreements).toEqual([]);
      // The corpus has both verdicts in quantity, so the agreement means something.
      expect(cases).toBeGreaterThan(5_000);
      expect(refused).toBeGreaterThan(cases / 2);
      expect(cases - refused).toBeGreaterThan(500);
    });

    it('decodes an accepted record as it was sent, and leaves a refused one to zod’s issues', () => {
      const value = JSON.parse(JSON.stringify(firstAttempt)) as unknown;
      expect(accept(value)).toBe(true);
      expect(
        decodeMessage(deliveryEventContract, Buffer.from(JSON.stringify(firstAttempt)), undefined),
      ).toEqual(firstAttempt);
      let violation: unknown;
      try {
        decodeMessage(
          deliveryEventContract,
          Buffer.from(JSON.stringify({ ...firstAttempt, url: 7 })),
          undefined,
        );
      } catch (error) {
        violation = error;
      }
      expect(violation).toMatchObject({ details: ['url: Invalid input: expected string, received number'] });
    });
  });
});

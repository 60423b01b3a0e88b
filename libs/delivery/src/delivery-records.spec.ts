import {
  type DeliveryRequest,
  deliveryEventSchema,
  deliveryRetrySchema,
  parkedDeliverySchema,
  subscriptionCommandSchema,
} from '@skyhook/contracts';
import { type AttemptReport, outcomeClassOf } from './attempt-report';
import {
  attemptedEvent,
  attemptResultOf,
  breakerDisableCommand,
  deliveryIdentity,
  parkedDelivery,
  scheduledRetry,
  skippedEvent,
} from './delivery-records';

const REQUEST: DeliveryRequest = {
  deliveryId: 'dlv_records',
  subscriptionId: 'sub_records',
  organisationId: 'org_records',
  event: {
    id: 'evt_records',
    type: 'flight.departed',
    scope: {},
    occurredAt: '2026-12-05T07:59:00.000Z',
    data: { flight: 'SK123' },
  },
  publishedAt: '2026-12-05T07:59:01.000Z',
  held: false,
  test: false,
};
const AT = new Date('2026-12-05T08:00:00.000Z');
const SENT = {
  url: 'https://partner.example/hooks',
  headers: { 'content-type': 'application/json' },
  body: Buffer.from('{"a":1}'),
};

const response = (status: number): AttemptReport => ({
  kind: 'response',
  status,
  retryAfter: undefined,
  bodyExcerpt: 'nope',
  durationMs: 42,
});
const timeout: AttemptReport = {
  kind: 'timeout',
  errorCode: 'TIMEOUT',
  errorMessage: 'no answer in 10 s',
  durationMs: 10_000,
};

describe('outcomeClassOf', () => {
  it.each([
    [response(200), 'success'],
    [response(299), 'success'],
    [response(300), 'http-error'],
    [response(500), 'http-error'],
    [timeout, 'timeout'],
    [{ ...timeout, kind: 'network-error' as const }, 'network-error'],
    [{ ...timeout, kind: 'address-refused' as const }, 'address-refused'],
  ])('classes %j as %s', (report, outcome) => {
    expect(outcomeClassOf(report)).toBe(outcome);
  });
});

describe('attemptResultOf', () => {
  it('names each plan as history does', () => {
    expect(attemptResultOf({ kind: 'delivered' })).toBe('delivered');
    expect(attemptResultOf({ kind: 'retry', attemptNumber: 2, delayMs: 5 })).toBe('retry-scheduled');
    expect(attemptResultOf({ kind: 'give-up', reason: 'attempts-exhausted' })).toBe('failed');
  });
});

describe('attemptedEvent', () => {
  const identity = { attemptNumber: 1, attemptId: 'att_1', attemptAt: AT, afterUnknownOutcome: false };

  it('records a first failed attempt with its request, its answer and the retry due', () => {
    const dueAt = new Date(AT.getTime() + 5_000);
    const event = attemptedEvent(
      REQUEST,
      identity,
      SENT,
      response(503),
      { kind: 'retry', attemptNumber: 2, delayMs: 5_000 },
      dueAt,
    );
    expect(deliveryEventSchema.parse(event)).toEqual(event);
    expect(event).toMatchObject({
      type: 'DeliveryAttempted',
      ...deliveryIdentity(REQUEST),
      request: REQUEST,
      attemptNumber: 1,
      attemptId: 'att_1',
      attemptedAt: AT.toISOString(),
      durationMs: 42,
      url: SENT.url,
      requestHeaders: SENT.headers,
      requestBodyBytes: 7,
      outcome: 'http-error',
      responseStatus: 503,
      responseBody: 'nope',
      errorCode: null,
      errorMessage: null,
      result: 'retry-scheduled',
      nextAttemptAt: dueAt.toISOString(),
    });
    expect(event).not.toHaveProperty('afterUnknownOutcome');
  });

  it('keeps the request once (first attempt), records an error, and marks an attempt after an unknown outcome', () => {
    const event = attemptedEvent(
      REQUEST,
      { ...identity, attemptNumber: 3, afterUnknownOutcome: true },
      SENT,
      timeout,
      { kind: 'give-up', reason: 'attempts-exhausted' },
      undefined,
    );
    expect(deliveryEventSchema.parse(event)).toEqual(event);
    expect(event).toMatchObject({
      request: null,
      attemptNumber: 3,
      afterUnknownOutcome: true,
      outcome: 'timeout',
      responseStatus: null,
      responseBody: null,
      errorCode: 'TIMEOUT',
      errorMessage: 'no answer in 10 s',
      result: 'failed',
      nextAttemptAt: null,
    });
  });
});

describe('the other records of a delivery', () => {
  it('a skip carries the request, the reason and the disposition', () => {
    const event = skippedEvent(REQUEST, 2, { reason: 'subscription-disabled', disposition: 'held' }, AT);
    expect(deliveryEventSchema.parse(event)).toEqual(event);
    expect(event).toMatchObject({
      type: 'DeliverySkipped',
      request: REQUEST,
      attemptNumber: 2,
      skippedAt: AT.toISOString(),
      reason: 'subscription-disabled',
      disposition: 'held',
    });
  });

  it('a scheduled retry says which attempt is due when', () => {
    const retry = scheduledRetry(REQUEST, 2, AT);
    expect(deliveryRetrySchema.parse(retry)).toEqual({
      request: REQUEST,
      attemptNumber: 2,
      dueAt: AT.toISOString(),
    });
  });

  it('a parked delivery keeps the unknown-outcome mark only when set', () => {
    const plain = parkedDelivery(REQUEST, 1, 'queue-full', AT, false);
    expect(parkedDeliverySchema.parse(plain)).toEqual(plain);
    expect(plain).not.toHaveProperty('afterUnknownOutcome');
    expect(parkedDelivery(REQUEST, 1, 'queue-full', AT, true)).toMatchObject({ afterUnknownOutcome: true });
  });

  it('a tripped breaker asks to disable the subscription, saying why', () => {
    const command = breakerDisableCommand(REQUEST, 5, AT);
    expect(subscriptionCommandSchema.parse(command)).toEqual({
      type: 'DisableSubscription',
      subscriptionId: 'sub_records',
      organisationId: 'org_records',
      reason: 'circuit-breaker',
      detail: '5 consecutive failed delivery attempts',
      issuedAt: AT.toISOString(),
    });
  });
});

import { type AttemptRecord, type DeliveryWithRequest } from '@skyhook/delivery-history';
import { deliveryDetailOf } from './delivery.response';

const publishedAt = new Date('2026-05-31T18:09:12.000Z');

const delivery: DeliveryWithRequest = {
  deliveryId: 'del_1',
  organisationId: 'org_1',
  subscriptionId: 'sub_1',
  eventId: 'evt_1',
  eventType: 'booking.created',
  test: false,
  status: 'delivered',
  attemptCount: 2,
  publishedAt,
  firstAttemptAt: publishedAt,
  lastAttemptAt: publishedAt,
  nextAttemptAt: null,
  lastOutcome: 'success',
  lastResponseStatus: 200,
  skipReason: null,
  waitingBehind: null,
  statusAt: publishedAt,
  position: { at: publishedAt.toISOString(), id: 'del_1' },
  request: null,
};

function attempt(attemptNumber: number, attemptId: string, afterUnknownOutcome = false): AttemptRecord {
  return {
    attemptNumber,
    attemptId,
    afterUnknownOutcome,
    attemptedAt: new Date(publishedAt.getTime() + attemptNumber * 1_000),
    durationMs: 12,
    url: 'https://hooks.example.com/skyhook',
    requestHeaders: {},
    requestBodyBytes: 100,
    outcome: 'http-error',
    responseStatus: 503,
    responseBody: null,
    errorCode: null,
    errorMessage: null,
    result: 'retry-scheduled',
    nextAttemptAt: null,
  };
}

const repeatsOf = (attempts: AttemptRecord[]) =>
  deliveryDetailOf(delivery, attempts).attempts.map(({ attemptId, repeated, repeatOf }) => ({
    attemptId,
    repeated,
    repeatOf,
  }));

describe('the attempts of a delivery as the api shows them', () => {
  it('shows a request sent again under a recorded number as a repeat of a recorded attempt', () => {
    expect(repeatsOf([attempt(1, 'att_a'), attempt(1, 'att_b'), attempt(2, 'att_c')])).toEqual([
      { attemptId: 'att_a', repeated: false, repeatOf: null },
      { attemptId: 'att_b', repeated: true, repeatOf: 'recorded-attempt' },
      { attemptId: 'att_c', repeated: false, repeatOf: null },
    ]);
  });

  it('shows a request sent after a dispatch whose outcome is unknown as possibly repeating an unrecorded one', () => {
    expect(repeatsOf([attempt(1, 'att_a', true), attempt(2, 'att_b')])).toEqual([
      { attemptId: 'att_a', repeated: true, repeatOf: 'unrecorded-attempt' },
      { attemptId: 'att_b', repeated: false, repeatOf: null },
    ]);
  });

  it('calls a marked request that follows a recorded one of its number a repeat of the recorded one', () => {
    // The killed dispatcher's attempt event did reach Kafka; only its offset was not committed.
    expect(repeatsOf([attempt(1, 'att_a'), attempt(1, 'att_b', true)])).toEqual([
      { attemptId: 'att_a', repeated: false, repeatOf: null },
      { attemptId: 'att_b', repeated: true, repeatOf: 'recorded-attempt' },
    ]);
  });
});

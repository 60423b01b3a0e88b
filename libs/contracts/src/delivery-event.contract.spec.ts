import { ContractViolationCode, ContractViolationError } from './contract-violation.error';
import { type DeliveryAttempted, deliveryEventContract } from './delivery-event.contract';
import { decodeMessage } from './message-contract';

const attempt: DeliveryAttempted = {
  type: 'DeliveryAttempted',
  deliveryId: 'del_1',
  subscriptionId: 'sub_1',
  organisationId: 'org_1',
  eventId: 'evt_1',
  eventType: 'booking.created',
  test: false,
  publishedAt: '2026-11-20T10:00:00.000Z',
  request: null,
  attemptNumber: 2,
  attemptedAt: '2026-11-20T10:00:02.000Z',
  durationMs: 12.5,
  url: 'https://hooks.example.com/skyhook',
  requestHeaders: { 'content-type': 'application/json' },
  requestBodyBytes: 120,
  outcome: 'success',
  responseStatus: 200,
  responseBody: 'ok',
  errorCode: null,
  errorMessage: null,
  result: 'delivered',
  nextAttemptAt: null,
};

function decode(value: object): unknown {
  return decodeMessage(deliveryEventContract, Buffer.from(JSON.stringify(value)), undefined);
}

describe('delivery event contract', () => {
  it('bounds what history keeps in integer columns, so a larger value is dead-lettered, not retried for ever', () => {
    expect(decode({ ...attempt, attemptNumber: 2_147_483_647, requestBodyBytes: 2_147_483_647 })).toEqual({
      ...attempt,
      attemptNumber: 2_147_483_647,
      requestBodyBytes: 2_147_483_647,
    });
    for (const tooLarge of [{ attemptNumber: 2_147_483_648 }, { requestBodyBytes: 2_147_483_648 }]) {
      let violation: unknown;
      try {
        decode({ ...attempt, ...tooLarge });
      } catch (error) {
        violation = error;
      }
      expect(violation).toBeInstanceOf(ContractViolationError);
      expect((violation as ContractViolationError).code).toBe(ContractViolationCode.SchemaMismatch);
    }
  });
});

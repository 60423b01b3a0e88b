import { type DeliveriesGetResponse } from '@skyhook/api-client';
import { deliveryPage } from './deliveries';

const waitingDelivery: DeliveriesGetResponse = {
  id: 'del_2',
  subscriptionId: 'sub_1',
  eventId: 'evt_2',
  eventType: 'flight.updated',
  test: false,
  status: 'waiting',
  attemptCount: 0,
  publishedAt: '2026-12-06T10:00:00.000Z',
  firstAttemptAt: null,
  lastAttemptAt: null,
  nextAttemptAt: null,
  lastOutcome: null,
  lastResponseStatus: null,
  skipReason: null,
  waitingBehind: 'del_1',
  statusAt: '2026-12-06T10:00:01.000Z',
  event: { id: 'evt_2', type: 'flight.updated', scope: {}, occurredAt: null },
  requestRecorded: true,
  attempts: [],
};

describe('the delivery page', () => {
  it('links a waiting delivery to the one before it of its ordering key', () => {
    const page = deliveryPage(waitingDelivery, 'csrf').toString();
    expect(page).toContain('status-waiting');
    expect(page).toMatch(/behind\s+<a href="\/deliveries\/del_1"\s*><code>del_1<\/code><\/a\s*>/);
  });

  it('escapes the name it links to, and says nothing of waiting once the delivery is not', () => {
    const hostile = deliveryPage({ ...waitingDelivery, waitingBehind: 'del_"><script>' }, 'csrf').toString();
    expect(hostile).not.toContain('<script>');
    expect(hostile).toContain('/deliveries/del_%22%3E%3Cscript%3E');
    const delivered = deliveryPage(
      { ...waitingDelivery, status: 'delivered', waitingBehind: null, attemptCount: 1 },
      'csrf',
    ).toString();
    expect(delivered).not.toContain('behind');
  });
});

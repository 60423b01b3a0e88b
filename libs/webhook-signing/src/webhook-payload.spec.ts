import { aDeliveryRequest } from './test/delivery-request.fixture';
import { compilePayloadRenderer, renderPayload } from './webhook-payload';

describe('renderPayload: envelope', () => {
  it('renders {id, type, organisationId, scope, createdAt, data} in that key order', () => {
    const request = aDeliveryRequest();
    const body = renderPayload({ shape: 'envelope' }, request);

    expect(body.toString('utf8')).toBe(
      JSON.stringify({
        id: 'evt_42',
        type: 'booking.created',
        organisationId: 'org_aviation',
        scope: { centerId: 'ctr_9' },
        createdAt: '2026-05-31T14:03:22.000Z',
        data: request.event.data,
      }),
    );
    expect(Object.keys(JSON.parse(body.toString('utf8')) as object)).toEqual([
      'id',
      'type',
      'organisationId',
      'scope',
      'createdAt',
      'data',
    ]);
  });

  it('is UTF-8 JSON, non-ASCII data included', () => {
    const body = renderPayload({ shape: 'envelope' }, aDeliveryRequest());
    expect(body.toString('utf8')).toContain('"name":"Zoë Ångström"');
    expect(Buffer.from(body.toString('utf8'), 'utf8').equals(body)).toBe(true);
  });
});

describe('renderPayload: thin', () => {
  it('keeps only scalar ids and status from data, under {id, type, createdAt, data}', () => {
    const request = aDeliveryRequest({
      event: {
        id: 'evt_7',
        type: 'review.completed',
        scope: { partnerId: 'ptn_1' },
        occurredAt: '2026-05-30T18:09:12Z',
        data: {
          id: 'rev_1',
          status: 'completed',
          review_id: '9b1f',
          referenceId: 'LN-2026-0042',
          attemptId: 3,
          archivedId: false,
          reportText: 'confidential findings',
          passengerCount: 4,
          valid: true,
          ownerId: { name: 'not a scalar' },
          aircraftIds: ['a', 'b'],
          parentId: null,
          status_reason: 'disclosed elsewhere',
        },
      },
    });

    const body = renderPayload({ shape: 'thin' }, request).toString('utf8');

    expect(body).toBe(
      JSON.stringify({
        id: 'evt_7',
        type: 'review.completed',
        createdAt: '2026-05-30T18:09:12Z',
        data: {
          id: 'rev_1',
          status: 'completed',
          review_id: '9b1f',
          referenceId: 'LN-2026-0042',
          attemptId: 3,
          archivedId: false,
        },
      }),
    );
  });

  it('carries neither the organisation nor the scope', () => {
    const payload = JSON.parse(renderPayload({ shape: 'thin' }, aDeliveryRequest()).toString()) as object;
    expect(Object.keys(payload)).toEqual(['id', 'type', 'createdAt', 'data']);
  });
});

describe('compilePayloadRenderer: template', () => {
  it("renders the receiver's own shape from the event and the delivery, as compact JSON", () => {
    const render = compilePayloadRenderer({
      shape: 'template',
      template: {
        id: { $ref: '/delivery/id' },
        type: { $ref: '/event/type' },
        centerId: { $ref: '/event/scope/centerId' },
        organisation: { $ref: '/event/organisationId' },
        data: { $ref: '/event/data' },
      },
    });
    const request = aDeliveryRequest();

    expect(render(request).toString('utf8')).toBe(
      `{"id":"${request.deliveryId}","type":"booking.created","centerId":"ctr_9","organisation":"org_aviation","data":{"bookingId":"bkg_1","status":"confirmed","passenger":{"name":"Zoë Ångström"}}}`,
    );
  });

  it('gives the same bytes on every call (retries are signed over identical bodies)', () => {
    const render = compilePayloadRenderer({
      shape: 'template',
      template: { event: { $ref: '/event/type' }, $spread: '/event/data' },
    });
    expect(render(aDeliveryRequest()).equals(render(aDeliveryRequest()))).toBe(true);
  });
});

import { EventDataTooLargeError, TEST_EVENT_TYPE } from '@skyhook/contracts';
import { SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { ChangeSubscriptionStatus } from '../change-subscription-status/change-subscription-status.usecase';
import { CreateSubscription } from '../create-subscription/create-subscription.usecase';
import { SubscriptionInputError, SubscriptionInputErrorCode } from '../subscription-command.error';
import { fakeDependencies, ORGANISATION, TEST_SETTINGS } from '../test/fakes';
import { type SendTestEventCommand } from './send-test-event.command';
import { SendTestEvent } from './send-test-event.usecase';

type Content = Pick<SendTestEventCommand, 'type' | 'data'>;

async function subscribed(eventTypes: string[] = ['*']) {
  const deps = fakeDependencies();
  const { subscription } = await new CreateSubscription(deps).execute({
    organisation: ORGANISATION,
    url: 'https://receiver.example/hooks',
    description: '',
    eventTypes,
    scopeFilter: { centerId: 'C1' },
    policy: {},
  });
  const send = (content: Content = {}, subscriptionId = subscription.id) =>
    new SendTestEvent(deps).execute({ organisation: ORGANISATION, subscriptionId, ...content });
  return { deps, subscription, send };
}

async function expectRefusal(
  sent: Promise<unknown>,
  type: new (...args: never[]) => Error,
  code: string,
): Promise<void> {
  await expect(sent).rejects.toBeInstanceOf(type);
  await expect(sent).rejects.toMatchObject({ code });
}

describe('SendTestEvent', () => {
  it('publishes to this subscription only, in its scope, with a test id', async () => {
    const { deps, subscription, send } = await subscribed();
    const sent = await send({ type: 'flight.departed', data: { flightId: 'FL9' } });
    expect(deps.publisher.published).toEqual([
      {
        id: sent.eventId,
        type: 'flight.departed',
        organisationId: ORGANISATION.id,
        scope: { centerId: 'C1' },
        occurredAt: '2026-12-01T12:00:00.000Z',
        data: { flightId: 'FL9' },
        deliverTo: subscription.id,
      },
    ]);
    expect(sent.eventId).toMatch(/^evt_test_[0-9a-f]{24}$/);
  });

  it('without a type sends the example of the first matching catalogue type that has one', async () => {
    const { send } = await subscribed(['booking.created', 'flight.*']);
    expect(await send()).toMatchObject({ type: 'flight.departed', data: { flightId: 'FL1' } });
  });

  it(`without a type or a matching example sends ${TEST_EVENT_TYPE}`, async () => {
    const { subscription, send } = await subscribed(['booking.created']);
    const sent = await send();
    expect(sent.type).toBe(TEST_EVENT_TYPE);
    expect(sent.data).toMatchObject({ subscriptionId: subscription.id });
    expect(sent.data).toHaveProperty('message');
  });

  it('sends the type’s example when no data is given', async () => {
    const { send } = await subscribed();
    expect(await send({ type: 'flight.departed' })).toMatchObject({ data: { flightId: 'FL1' } });
  });

  it('refuses an unknown subscription', async () => {
    const { deps, send } = await subscribed();
    await expectRefusal(send({}, 'sub_unknown'), SubscriptionError, SubscriptionErrorCode.NotFound);
    expect(deps.publisher.published).toEqual([]);
  });

  it('refuses a subscription that is not active', async () => {
    const { deps, subscription, send } = await subscribed();
    await new ChangeSubscriptionStatus(deps).execute({
      organisation: ORGANISATION,
      subscriptionId: subscription.id,
      change: 'disable',
    });
    await expectRefusal(send(), SubscriptionError, SubscriptionErrorCode.InvalidTransition);
    expect(deps.publisher.published).toEqual([]);
  });

  it.each<[string, string[], Content, SubscriptionInputErrorCode]>([
    ['data without a type', ['*'], { data: { a: 1 } }, SubscriptionInputErrorCode.Invalid],
    [
      'a type outside the catalogue',
      ['*'],
      { type: 'flight.landed' },
      SubscriptionInputErrorCode.UnknownEventType,
    ],
    [
      'a type the subscription does not receive',
      ['booking.created'],
      { type: 'flight.departed' },
      SubscriptionInputErrorCode.Invalid,
    ],
    [
      'a type without an example, and no data',
      ['*'],
      { type: 'booking.created' },
      SubscriptionInputErrorCode.Invalid,
    ],
  ])('refuses %s', async (_case, eventTypes, content, code) => {
    const { deps, send } = await subscribed(eventTypes);
    await expectRefusal(send(content), SubscriptionInputError, code);
    expect(deps.publisher.published).toEqual([]);
  });

  it('refuses data over the size limit', async () => {
    const { deps, send } = await subscribed();
    const data = { text: 'x'.repeat(TEST_SETTINGS.eventMaxDataBytes) };
    await expectRefusal(
      send({ type: 'booking.created', data }),
      EventDataTooLargeError,
      'EVENT_DATA_TOO_LARGE',
    );
    expect(deps.publisher.published).toEqual([]);
  });
});

import { randomBytes } from 'node:crypto';
import { assertEventDataWithinLimit, type InboundEvent, TEST_EVENT_TYPE } from '@skyhook/contracts';
import { matchesEventType, SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { SubscriptionInputError, SubscriptionInputErrorCode } from '../subscription-command.error';
import { type SubscriptionCommandDependencies } from '../subscription-command-dependencies';
import { type SendTestEventCommand, type TestEventPublished } from './send-test-event.command';

/**
 * Publishes a test event for this one subscription; it goes through fan-out and the dispatcher
 * like any other event (the subscription's payload template and signature included), and shows
 * in history as a test. What it carries: the type and `data` asked for; else the example of
 * the first catalogue type the subscription matches that has one, so that a receiver written
 * from a seed's document gets a body its own code accepts; else `webhook.test` with a message.
 */
export class SendTestEvent {
  constructor(private readonly dependencies: SubscriptionCommandDependencies) {}

  async execute(command: SendTestEventCommand): Promise<TestEventPublished> {
    const { store, publisher, clock } = this.dependencies;
    const { organisation, subscriptionId } = command;
    const subscription = await store.findLive(organisation.id, subscriptionId);
    if (subscription === undefined) {
      throw new SubscriptionError(SubscriptionErrorCode.NotFound, `subscription ${subscriptionId} not found`);
    }
    if (subscription.status !== 'active') {
      throw new SubscriptionError(
        SubscriptionErrorCode.InvalidTransition,
        `subscription ${subscriptionId} is ${subscription.status}; only active subscriptions receive test events`,
        { status: subscription.status },
      );
    }
    const { type, data } = await this.contentOf(command, subscription.eventTypes);
    const event: InboundEvent = {
      id: `evt_test_${randomBytes(12).toString('hex')}`,
      type,
      organisationId: organisation.id,
      // The subscription's own scope, so a per-center receiver sees its centerId in the test too.
      scope: { ...subscription.scopeFilter },
      occurredAt: clock.now().toISOString(),
      data,
      deliverTo: subscriptionId,
    };
    await publisher.publish(event);
    return {
      eventId: event.id,
      type: event.type,
      scope: event.scope,
      occurredAt: event.occurredAt,
      data: event.data,
    };
  }

  private async contentOf(
    command: SendTestEventCommand,
    filters: readonly string[],
  ): Promise<{ type: string; data: Record<string, unknown> }> {
    const { catalogue, settings } = this.dependencies;
    const { subscriptionId: id } = command;
    const types = await catalogue.list(command.organisation.id);
    if (command.type === undefined) {
      if (command.data !== undefined) {
        throw new SubscriptionInputError(
          SubscriptionInputErrorCode.Invalid,
          'test event data needs its type: send type with data',
          [{ path: 'type', message: 'required with data' }],
        );
      }
      const withExample = types.find(
        (eventType) => eventType.example !== null && matchesEventType(filters, eventType.name),
      );
      return withExample?.example != null
        ? { type: withExample.name, data: withExample.example }
        : {
            type: TEST_EVENT_TYPE,
            data: { subscriptionId: id, message: 'This is a test delivery from Skyhook.' },
          };
    }
    const eventType = types.find((candidate) => candidate.name === command.type);
    if (eventType === undefined) {
      throw new SubscriptionInputError(
        SubscriptionInputErrorCode.UnknownEventType,
        `event type ${command.type} is not in the catalogue; register it with POST /v1/event-types`,
        { eventType: command.type },
      );
    }
    if (!matchesEventType(filters, eventType.name)) {
      throw new SubscriptionInputError(
        SubscriptionInputErrorCode.Invalid,
        `subscription ${id} does not receive ${eventType.name} events (its event types: ${filters.join(', ')})`,
        [{ path: 'type', message: 'not among the subscription’s event types' }],
      );
    }
    if (command.data !== undefined) assertEventDataWithinLimit(command.data, settings.eventMaxDataBytes);
    const data = command.data ?? eventType.example;
    if (data === null) {
      throw new SubscriptionInputError(
        SubscriptionInputErrorCode.Invalid,
        `event type ${eventType.name} has no example: send data, or register the type with an example`,
        [{ path: 'data', message: 'required: the event type has no example' }],
      );
    }
    return { type: eventType.name, data };
  }
}

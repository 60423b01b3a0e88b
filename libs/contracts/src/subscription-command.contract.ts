import { z } from 'zod';
import { identifierSchema } from './inbound-event.contract';
import { defineMessageContract } from './message-contract';
import { KAFKA_TOPICS } from './topics';

/**
 * A command for the subscription's owner. The api is the only writer of the subscription log
 * (it numbers each aggregate's versions under a row lock), so the dispatcher asks it to
 * disable an endpoint instead of appending to the log itself.
 */
export const subscriptionCommandSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('DisableSubscription'),
    subscriptionId: identifierSchema,
    organisationId: identifierSchema,
    reason: z.literal('circuit-breaker'),
    detail: z.string().max(1_000),
    issuedAt: z.iso.datetime({ offset: true }),
  }),
]);

export type SubscriptionCommand = z.infer<typeof subscriptionCommandSchema>;

export const subscriptionCommandContract = defineMessageContract<SubscriptionCommand>({
  topic: KAFKA_TOPICS.subscriptionCommands,
  schemaId: 'subscription-command',
  schemaVersion: 1,
  schema: subscriptionCommandSchema,
  keyOf: (command) => command.subscriptionId,
});

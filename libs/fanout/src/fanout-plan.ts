import { deliveryIdOf, type DeliveryRequest, type InboundEvent, orderingKeyOf } from '@skyhook/contracts';
import { type OrganisationDirectory } from './organisation-directory';
import { type IndexedSubscription, type SubscriptionIndex } from './subscription-index';

export enum FanoutRejection {
  UnknownOrganisation = 'UNKNOWN_ORGANISATION',
  UnknownEventType = 'UNKNOWN_EVENT_TYPE',
}

export type FanoutPlan =
  | { readonly kind: 'deliver'; readonly requests: DeliveryRequest[] }
  | { readonly kind: 'reject'; readonly reason: FanoutRejection; readonly message: string };

/**
 * Decides what one inbound event becomes: a delivery request per matching active subscription
 * (and per disabled one whose policy holds deliveries), or a rejection to dead-letter.
 */
export function planFanout(
  event: InboundEvent,
  publishedAt: string,
  index: SubscriptionIndex,
  directory: OrganisationDirectory,
): FanoutPlan {
  if (!directory.knows(event.organisationId)) {
    return {
      kind: 'reject',
      reason: FanoutRejection.UnknownOrganisation,
      message: `organisation ${event.organisationId} is not known to Skyhook`,
    };
  }
  // Sent through POST /v1/subscriptions/{id}/test: `webhook.test`, or a catalogue type with its example.
  const test = event.deliverTo !== undefined;
  if (!test && !directory.hasEventType(event.organisationId, event.type)) {
    return {
      kind: 'reject',
      reason: FanoutRejection.UnknownEventType,
      message: `event type ${event.type} is not in the catalogue of organisation ${event.organisationId}`,
    };
  }
  const candidates = test
    ? targetOf(event, index)
    : index.matching(event.organisationId, event.type, event.scope);
  const requests: DeliveryRequest[] = [];
  for (const subscription of candidates) {
    const held =
      subscription.status === 'disabled' &&
      directory.whileDisabledFor(subscription.organisationId, subscription.whileDisabled) === 'hold';
    if (subscription.status !== 'active' && !held) continue;
    const delivered = {
      id: event.id,
      type: event.type,
      scope: event.scope,
      occurredAt: event.occurredAt,
      data: event.data,
    };
    const request: DeliveryRequest = {
      deliveryId: deliveryIdOf(event.organisationId, event.id, subscription.id),
      subscriptionId: subscription.id,
      organisationId: event.organisationId,
      event: delivered,
      publishedAt,
      held,
      test,
    };
    // A test delivery is no part of any key's sequence: it never waits behind a failing one.
    if (subscription.orderingKey !== undefined && !test) {
      requests.push({ ...request, orderingKey: orderingKeyOf(delivered, subscription.orderingKey) });
    } else {
      requests.push(request);
    }
  }
  return { kind: 'deliver', requests };
}

function targetOf(event: InboundEvent, index: SubscriptionIndex): IndexedSubscription[] {
  const target = event.deliverTo === undefined ? undefined : index.get(event.deliverTo);
  // A test event never crosses organisations, whatever id it names.
  return target !== undefined && target.organisationId === event.organisationId && target.status === 'active'
    ? [target]
    : [];
}

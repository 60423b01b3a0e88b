import { type Type } from '@nestjs/common';
import { DeliveriesController, SubscriptionDeliveriesController } from './deliveries/deliveries.controller';
import { EventTypesController } from './event-types/event-types.controller';
import { EventsController } from './events/events.controller';
import { AdminOrganisationsController } from './organisations/admin-organisations.controller';
import { AdminReplaysController } from './replays/admin-replays.controller';
import { ReplaysController } from './replays/replays.controller';
import { PartnerNotificationsController } from './partner-notifications/partner-notifications.controller';
import {
  AdminPortalSessionsController,
  PortalSessionsController,
} from './portal-sessions/portal-sessions.controller';
import { AdminSubscriptionsController } from './subscriptions/admin-subscriptions.controller';
import { SigningKeysController } from './subscriptions/signing-keys.controller';
import { SubscriptionsController } from './subscriptions/subscriptions.controller';

/**
 * The controllers of the api's REST routes: the module serves these, and the OpenAPI document is
 * built from these, so a route cannot be served without being documented (the build refuses one).
 */
export const API_HTTP_CONTROLLERS: readonly Type[] = [
  SubscriptionsController,
  SubscriptionDeliveriesController,
  DeliveriesController,
  ReplaysController,
  EventTypesController,
  EventsController,
  PortalSessionsController,
  PartnerNotificationsController,
  SigningKeysController,
  AdminOrganisationsController,
  AdminPortalSessionsController,
  AdminSubscriptionsController,
  AdminReplaysController,
];

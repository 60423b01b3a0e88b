import { CreateProjectionCheckpoints1763900000000 } from './migrations/1763900000000-create-projection-checkpoints';
import { CreateTenancyAndSubscriptions1763910000000 } from './migrations/1763910000000-create-tenancy-and-subscriptions';
import { CreateOrganisationOutboxAndEventIngestion1763920000000 } from './migrations/1763920000000-create-organisation-outbox-and-event-ingestion';
import { CreateDeliveryHistory1763930000000 } from './migrations/1763930000000-create-delivery-history';
import { CreateRedeliveryAttemptNumbers1763940000000 } from './migrations/1763940000000-create-redelivery-attempt-numbers';
import { AddOrganisationDeliveryProfiles1763950000000 } from './migrations/1763950000000-add-organisation-delivery-profiles';
import { AddPublishClaims1763960000000 } from './migrations/1763960000000-add-publish-claims';
import { KeyAttemptsByIdAndFixDeliveryPublishTimes1763968000000 } from './migrations/1763968000000-key-attempts-by-id-and-fix-delivery-publish-times';
import { MarkAttemptsAfterUnknownOutcome1763970000000 } from './migrations/1763970000000-mark-attempts-after-unknown-outcome';
import { AddEventTypeExamples1763980000000 } from './migrations/1763980000000-add-event-type-examples';
import { DropProjectionCheckpoints1763990000000 } from './migrations/1763990000000-drop-projection-checkpoints';
import { AddPortalSessions1764000000000 } from './migrations/1764000000000-add-portal-sessions';
import { AddPartnerNotifications1764100000000 } from './migrations/1764100000000-add-partner-notifications';
import { AddSubscriptionOrdering1764200000000 } from './migrations/1764200000000-add-subscription-ordering';
import { AddSubscriptionRateLimit1764300000000 } from './migrations/1764300000000-add-subscription-rate-limit';
import { AddDeliveryWaitingBehind1764400000000 } from './migrations/1764400000000-add-delivery-waiting-behind';

/** Every migration, in order. A new migration is appended here. (The code reads and writes with SQL, no entities.) */
export const MIGRATIONS = [
  CreateProjectionCheckpoints1763900000000,
  CreateTenancyAndSubscriptions1763910000000,
  CreateOrganisationOutboxAndEventIngestion1763920000000,
  CreateDeliveryHistory1763930000000,
  CreateRedeliveryAttemptNumbers1763940000000,
  AddOrganisationDeliveryProfiles1763950000000,
  AddPublishClaims1763960000000,
  KeyAttemptsByIdAndFixDeliveryPublishTimes1763968000000,
  MarkAttemptsAfterUnknownOutcome1763970000000,
  AddEventTypeExamples1763980000000,
  DropProjectionCheckpoints1763990000000,
  AddPortalSessions1764000000000,
  AddPartnerNotifications1764100000000,
  AddSubscriptionOrdering1764200000000,
  AddSubscriptionRateLimit1764300000000,
  AddDeliveryWaitingBehind1764400000000,
];

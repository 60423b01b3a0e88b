import { z } from 'zod';
import { eventTypeNameSchema } from './event-type-name';
import { identifierSchema } from './inbound-event.contract';
import { defineMessageContract } from './message-contract';
import { KAFKA_TOPICS } from './topics';

/**
 * An organisation's configuration as the delivery path needs it, whole in every record, so a
 * consumer keeps only the latest per organisation (the topic is compacted).
 */
export const organisationSnapshotSchema = z.strictObject({
  organisationId: identifierSchema,
  eventTypes: z.array(eventTypeNameSchema).max(10_000),
  /**
   * The named delivery profile under the organisation's default policy (see the delivery-policy
   * library). Snapshots written before profiles existed read as the platform default.
   */
  profile: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/)
    .default('standard-webhooks'),
  /** The delivery-policy override every subscription of the organisation starts from. */
  defaultPolicy: z.record(z.string(), z.unknown()),
  updatedAt: z.iso.datetime({ offset: true }),
});

export type OrganisationSnapshot = z.infer<typeof organisationSnapshotSchema>;

export const organisationSnapshotContract = defineMessageContract<OrganisationSnapshot>({
  topic: KAFKA_TOPICS.organisationSnapshots,
  schemaId: 'organisation-snapshot',
  schemaVersion: 1,
  schema: organisationSnapshotSchema,
  keyOf: (snapshot) => snapshot.organisationId,
});

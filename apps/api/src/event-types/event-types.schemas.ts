import { z } from 'zod';
import { eventTypeNameSchema, isReservedEventType } from '@skyhook/contracts';

/** An example is a sample payload, not a real one: kept small. */
export const EXAMPLE_MAX_BYTES = 16 * 1_024;

export const registerEventTypesSchema = z.strictObject({
  eventTypes: z
    .array(
      z.strictObject({
        name: eventTypeNameSchema.refine((name) => !isReservedEventType(name), {
          message: "the skyhook domain is reserved for Skyhook's own notifications",
        }),
        description: z.string().max(500).default(''),
        /**
         * An example of the type's `data`: test deliveries of the type carry it (rendered
         * through the subscription's payload template). Registering again without one keeps it.
         */
        example: z
          .record(z.string(), z.unknown())
          .refine((data) => Buffer.byteLength(JSON.stringify(data)) <= EXAMPLE_MAX_BYTES, {
            message: `must be at most ${EXAMPLE_MAX_BYTES} bytes of JSON`,
          })
          .optional(),
      }),
    )
    .min(1)
    .max(500),
});
export type RegisterEventTypesRequest = z.infer<typeof registerEventTypesSchema>;

/** One type of the catalogue, as the api answers it. */
export const eventTypeResponseSchema = z.strictObject({
  name: z.string(),
  domain: z.string().meta({ description: 'The first segment of the name: booking for booking.created.' }),
  description: z.string(),
  example: z.record(z.string(), z.unknown()).nullable().meta({
    description: "An example of the type's data, for test deliveries; null when none was registered.",
  }),
  schema: z.record(z.string(), z.unknown()).nullable().meta({
    description:
      "The JSON Schema of the type's data: set on Skyhook's notification types (the skyhook domain), null on the organisation's own.",
  }),
  reserved: z.boolean().meta({
    description:
      "True on Skyhook's notification types: in every catalogue, subscribable by name or skyhook.*, never matched by *, not publishable.",
  }),
  createdAt: z.iso.datetime({ offset: true }),
});

/** The catalogue after registering. */
export const eventTypesResponseSchema = z.strictObject({ data: z.array(eventTypeResponseSchema) });

/** The catalogue, with its domains. */
export const eventTypeCatalogueResponseSchema = eventTypesResponseSchema.extend({
  domains: z.array(z.string()),
});

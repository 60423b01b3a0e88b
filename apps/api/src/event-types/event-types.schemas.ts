import { z } from 'zod';
import { eventTypeNameSchema } from '@skyhook/contracts';

export const registerEventTypesSchema = z.strictObject({
  eventTypes: z
    .array(z.strictObject({ name: eventTypeNameSchema, description: z.string().max(500).default('') }))
    .min(1)
    .max(500),
});
export type RegisterEventTypesRequest = z.infer<typeof registerEventTypesSchema>;

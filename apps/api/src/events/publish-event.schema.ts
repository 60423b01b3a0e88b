import { z } from 'zod';
import { eventScopeSchema, eventTypeNameSchema, identifierSchema } from '@skyhook/contracts';
import { ZodValidationPipe } from '../http/zod-body.pipe';

/** POST /v1/events: the organisation comes from the API key, never from the body. */
export const publishEventSchema = z.strictObject({
  /** Unique per organisation; publishing the same id again is a no-op. Generated when absent. */
  id: identifierSchema.optional(),
  type: eventTypeNameSchema,
  scope: eventScopeSchema.default({}),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
  data: z.record(z.string(), z.unknown()).superRefine((data, context) => {
    const path = pathOfUnstorableString(data);
    if (path !== undefined) {
      context.addIssue({
        code: 'custom',
        path,
        message:
          'must not contain U+0000 (the NUL character) or an unpaired surrogate (\\ud800 to \\udfff without its pair): delivery history keeps each event for resend and replay, and cannot store them',
      });
    }
  }),
});
export type PublishEventRequest = z.infer<typeof publishEventSchema>;

export const idempotencyKeySchema = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

/** The `Idempotency-Key` header, validated (400 naming the header), or undefined when absent. */
export function idempotencyKeyFromHeader(header: unknown): string | undefined {
  return header === undefined
    ? undefined
    : new ZodValidationPipe(idempotencyKeySchema, 'Idempotency-Key header').transform(header);
}

/** A place in the walked value: its key in its parent, and the parent's place. */
interface WalkedPlace {
  readonly value: unknown;
  readonly key: string | number | undefined;
  readonly parent: WalkedPlace | undefined;
}

/** A UTF-16 surrogate without its other half: not a character, and not valid in UTF-8. */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** PostgreSQL's text and JSON types cannot store it (see `jsonForPostgres` in persistence). */
function isUnstorable(text: string): boolean {
  return text.includes('\u0000') || UNPAIRED_SURROGATE.test(text);
}

/**
 * The path of the first string in `value`, key or value, that holds U+0000 or an unpaired
 * surrogate; undefined if none does. Walked with a stack of its own, each place linked to its parent (the path is built only
 * for the string found), so time and memory grow with the size of the value and no nesting
 * depth a body can reach overflows the call stack.
 */
export function pathOfUnstorableString(value: unknown): (string | number)[] | undefined {
  const pending: WalkedPlace[] = [{ value, key: undefined, parent: undefined }];
  for (let place = pending.pop(); place !== undefined; place = pending.pop()) {
    const current = place.value;
    if (typeof current === 'string') {
      if (isUnstorable(current)) return pathTo(place);
    } else if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index -= 1) {
        pending.push({ value: current[index] as unknown, key: index, parent: place });
      }
    } else if (typeof current === 'object' && current !== null) {
      const entries = Object.entries(current);
      for (let index = entries.length - 1; index >= 0; index -= 1) {
        const [key, member] = entries[index] as [string, unknown];
        if (isUnstorable(key)) return [...pathTo(place), key];
        pending.push({ value: member, key, parent: place });
      }
    }
  }
  return undefined;
}

function pathTo(place: WalkedPlace): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at: WalkedPlace | undefined = place; at?.key !== undefined; at = at.parent) path.push(at.key);
  return path.reverse();
}

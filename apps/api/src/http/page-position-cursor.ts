import { z } from 'zod';
import { identifierSchema } from '@skyhook/contracts';
import { isMicrosecondInstant, type PagePosition } from '@skyhook/persistence';
import { ApiError, ApiErrorCode } from './api-error';

const positionSchema = z.strictObject({
  t: z.string().refine(isMicrosecondInstant),
  i: identifierSchema,
});

/** A page position as a cursor: opaque to clients, which pass back the `nextCursor` of the previous page. */
export function encodePagePosition(position: PagePosition): string {
  return Buffer.from(JSON.stringify({ t: position.at, i: position.id })).toString('base64url');
}

export function decodePagePosition(encoded: string): PagePosition {
  try {
    const parsed = positionSchema.parse(JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')));
    return { at: parsed.t, id: parsed.i };
  } catch {
    throw new ApiError(
      ApiErrorCode.ValidationFailed,
      'invalid cursor: pass back the nextCursor of a previous page',
    );
  }
}

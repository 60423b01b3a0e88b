import { z } from 'zod';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { type SubscriptionPageCursor } from './subscription-read-model.repository';

const cursorSchema = z.strictObject({ c: z.iso.datetime({ offset: true }), i: z.string().min(1).max(200) });

/** Opaque to clients: the position after the last row of a page. */
export function encodeCursor(cursor: SubscriptionPageCursor): string {
  return Buffer.from(JSON.stringify({ c: cursor.createdAt, i: cursor.id })).toString('base64url');
}

export function decodeCursor(encoded: string): SubscriptionPageCursor {
  try {
    const parsed = cursorSchema.parse(JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')));
    return { createdAt: parsed.c, id: parsed.i };
  } catch {
    throw new ApiError(
      ApiErrorCode.ValidationFailed,
      'invalid cursor: pass back the nextCursor of a previous page',
    );
  }
}

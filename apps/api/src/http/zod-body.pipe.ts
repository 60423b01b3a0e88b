import { type PipeTransform } from '@nestjs/common';
import { type z } from 'zod';
import { ApiError, ApiErrorCode } from './api-error';
import { findUnstorableInput, MAX_NESTING_DEPTH } from './unstorable-strings';

/**
 * Validates a request body (or query) against a zod schema; every issue is reported with its
 * path. What cannot be stored (a string PostgreSQL refuses, nesting deeper than the limit) is
 * refused first, wherever it is (`unstorable-strings`).
 */
export class ZodValidationPipe<TSchema extends z.ZodType> implements PipeTransform<
  unknown,
  z.infer<TSchema>
> {
  constructor(
    readonly schema: TSchema,
    private readonly what = 'request body',
    /**
     * `items`: what cannot be stored is looked for by the caller, item by item (a batch refuses
     * only the item that holds it); the schema must then take those items as `unknown`.
     */
    private readonly storableCheck: 'whole' | 'items' = 'whole',
  ) {}

  transform(value: unknown): z.infer<TSchema> {
    const unstorable =
      this.storableCheck === 'whole' ? findUnstorableInput(value, MAX_NESTING_DEPTH) : undefined;
    if (unstorable !== undefined) {
      const path = unstorable.path.join('.') || '(root)';
      throw new ApiError(
        ApiErrorCode.ValidationFailed,
        `invalid ${this.what}: ${path}: ${unstorable.message}`,
        undefined,
        [{ path, message: unstorable.message }],
      );
    }
    const parsed = this.schema.safeParse(value ?? {});
    if (parsed.success) return parsed.data;
    throw new ApiError(
      ApiErrorCode.ValidationFailed,
      `invalid ${this.what}: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ')}`,
      undefined,
      parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
    );
  }
}

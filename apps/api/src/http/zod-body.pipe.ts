import { type PipeTransform } from '@nestjs/common';
import { type z } from 'zod';
import { ApiError, ApiErrorCode } from './api-error';
import { pathOfUnstorableString, UNSTORABLE_STRING_MESSAGE } from './unstorable-strings';

/**
 * Validates a request body (or query) against a zod schema; every issue is reported with its
 * path. A string PostgreSQL cannot store is refused first, wherever it is (`unstorable-strings`).
 */
export class ZodValidationPipe<TSchema extends z.ZodType> implements PipeTransform<
  unknown,
  z.infer<TSchema>
> {
  constructor(
    private readonly schema: TSchema,
    private readonly what = 'request body',
  ) {}

  transform(value: unknown): z.infer<TSchema> {
    const unstorable = pathOfUnstorableString(value);
    if (unstorable !== undefined) {
      const path = unstorable.join('.') || '(root)';
      throw new ApiError(
        ApiErrorCode.ValidationFailed,
        `invalid ${this.what}: ${path}: ${UNSTORABLE_STRING_MESSAGE}`,
        undefined,
        [{ path, message: UNSTORABLE_STRING_MESSAGE }],
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

import { z } from 'zod';

/** The response schema of a page of a cursor-paginated list of `item`. */
export function pageSchemaOf<TItem extends z.ZodType>(item: TItem) {
  return z.strictObject({
    data: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'Pass back as `cursor` for the next page; null after the last one.' }),
  });
}

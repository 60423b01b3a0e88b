import { Ajv } from 'ajv';
import { z } from 'zod';

/**
 * A contract's zod schema compiled a second way, into a JSON Schema validator (ajv), for the
 * consumers that decode the most records: on a delivery event ajv takes 2.8–3.7 µs where zod
 * takes 11–14, and zod's share was the history service's largest cost (bench/RESULTS.md).
 *
 * It only ever accepts: a value it accepts is used as decoded, a value it does not goes to
 * zod, which decides and words the issues. So it must never accept what zod refuses. The JSON
 * Schema comes from zod itself (`z.toJSONSchema`), and what that conversion cannot carry is
 * refused here rather than dropped:
 * - anything zod cannot express in JSON Schema (a transform, a custom type) throws;
 * - a refinement (`.refine`) is not carried by the conversion, so a schema with one throws
 *   unless `refinements` gives its JSON Schema equivalent;
 * - a default would be applied by zod and not here, so a schema with one throws.
 * Lengths count code points and patterns run without the `u` flag, as in zod. The unit test
 * holds both validators to the same verdict over valid records and thousands of mutations.
 */
export type JsonSchemaAcceptor = (value: unknown) => boolean;

/** For a schema with a refinement: what to add to its JSON Schema to refuse what the refinement refuses. */
export type RefinementEquivalents = ReadonlyMap<unknown, Readonly<Record<string, unknown>>>;

export function compileJsonSchemaAcceptor(
  schema: z.ZodType,
  refinements: RefinementEquivalents = new Map(),
): JsonSchemaAcceptor {
  const jsonSchema = z.toJSONSchema(schema, {
    unrepresentable: 'throw',
    override: ({ zodSchema, jsonSchema: converted }) => {
      const checks = (zodSchema._zod.def as { checks?: { _zod: { def: { check: string } } }[] }).checks ?? [];
      if (!checks.some((check) => check._zod.def.check === 'custom')) return;
      const equivalent = refinements.get(zodSchema);
      if (equivalent === undefined) {
        throw new Error(
          'a refinement without a JSON Schema equivalent: the acceptor would accept what it refuses',
        );
      }
      Object.assign(converted, equivalent);
    },
  });
  if (JSON.stringify(jsonSchema).includes('"default":')) {
    throw new Error('a default: zod would fill it in, the acceptor would not');
  }
  const { $schema: _dialect, ...withoutDialect } = jsonSchema;
  return new Ajv({
    strict: true,
    allErrors: false,
    // Formats are zod's patterns, which the conversion writes beside them.
    validateFormats: false,
    // As zod: patterns without the `u` flag (string lengths count code points in both).
    unicodeRegExp: false,
  }).compile(withoutDialect);
}

import { z } from 'zod';
import { ApiError } from './api-error';
import {
  findUnstorableInput,
  INEXACT_INTEGER_MESSAGE,
  MAX_NESTING_DEPTH,
  NON_FINITE_NUMBER_MESSAGE,
} from './unstorable-strings';
import { ZodValidationPipe } from './zod-body.pipe';

/** The path of the first string, key or value, holding U+0000 or an unpaired surrogate, at any depth. */
function pathOfUnstorableString(value: unknown): (string | number)[] | undefined {
  return findUnstorableInput(value)?.path;
}

describe('strings PostgreSQL cannot store', () => {
  it('finds U+0000 or an unpaired surrogate in a value or a key, at any depth, and nothing in clean data', () => {
    expect(
      pathOfUnstorableString({ a: 'clean', b: [1, null, true, { c: 'still clean \\u0000 as text' }] }),
    ).toBe(undefined);
    expect(pathOfUnstorableString({ a: 'x', b: [1, { c: 'nul\u0000here' }] })).toEqual(['b', 1, 'c']);
    expect(pathOfUnstorableString({ outer: { 'key\u0000': 1 } })).toEqual(['outer', 'key\u0000']);
    expect(pathOfUnstorableString({ a: ['😀', 'x\ud800'] })).toEqual(['a', 1]);
    expect(pathOfUnstorableString({ a: '\udc00 alone' })).toEqual(['a']);
    expect(pathOfUnstorableString({ ['\ud83d']: 1 })).toEqual(['\ud83d']);
    expect(pathOfUnstorableString({ a: '😀 paired \ud83d\ude00' })).toBe(undefined);
    // The first in document order.
    expect(pathOfUnstorableString({ first: ['\u0000'], second: '\u0000' })).toEqual(['first', 0]);
  });

  it('finds numbers that would not arrive as published: not finite, or integers past 2^53', () => {
    expect(findUnstorableInput(JSON.parse('{"data":{"big":18446744073709551617}}'))).toEqual({
      path: ['data', 'big'],
      message: INEXACT_INTEGER_MESSAGE,
    });
    expect(findUnstorableInput(JSON.parse('{"data":[1,{"huge":1e400}]}'))).toEqual({
      path: ['data', 1, 'huge'],
      message: NON_FINITE_NUMBER_MESSAGE,
    });
    expect(findUnstorableInput(JSON.parse('{"n":-1e400}'))?.message).toBe(NON_FINITE_NUMBER_MESSAGE);
    // The largest exact integers, fractions and small exponents pass.
    expect(
      findUnstorableInput(
        JSON.parse('{"a":9007199254740991,"b":-9007199254740991,"c":0.1,"d":1.5e-300,"e":12.5}'),
      ),
    ).toBe(undefined);
  });

  it('walks nesting deeper than the call stack would allow', () => {
    let deep: unknown = '\u0000';
    for (let level = 0; level < 200_000; level += 1) deep = [deep];
    expect(pathOfUnstorableString(deep)).toHaveLength(200_000);
  });

  it('are refused by every validated body or query before its schema, naming the path', () => {
    const pipe = new ZodValidationPipe(
      z.strictObject({ description: z.string(), tags: z.array(z.string()) }),
    );
    let refusal: unknown;
    try {
      pipe.transform({ description: 'fine', tags: ['ok', 'a\u0000b'] });
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ApiError);
    expect(refusal).toMatchObject({
      code: 'VALIDATION_FAILED',
      details: [{ path: 'tags.1', message: expect.stringContaining('U+0000') as unknown }],
    });
    expect(() => new ZodValidationPipe(z.string(), 'Idempotency-Key header').transform('\ud800')).toThrow(
      'invalid Idempotency-Key header: (root): must not contain U+0000',
    );
    // The text "\u0000" is not the character.
    expect(pipe.transform({ description: 'a\\u0000b', tags: [] })).toEqual({
      description: 'a\\u0000b',
      tags: [],
    });
  });

  it('and the pipe refuses nesting deeper than the limit, naming the first place beyond it', () => {
    let deep: unknown = 1;
    for (let level = 0; level < 100_000; level += 1) deep = [deep];
    const found = findUnstorableInput({ data: deep }, MAX_NESTING_DEPTH);
    expect(found?.message).toBe('nested deeper than 64 levels');
    expect(found?.path).toHaveLength(MAX_NESTING_DEPTH + 1);
    let atLimit: unknown = 'x';
    for (let level = 1; level < MAX_NESTING_DEPTH; level += 1) atLimit = [atLimit];
    expect(findUnstorableInput({ data: atLimit }, MAX_NESTING_DEPTH)).toBe(undefined);
    expect(() => new ZodValidationPipe(z.unknown()).transform({ data: deep })).toThrow(
      /invalid request body: data(\.0)+: nested deeper than 64 levels/,
    );
  });
});

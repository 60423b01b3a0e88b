import { pathOfUnstorableString, publishEventSchema } from './publish-event.schema';

describe('published event data', () => {
  it('finds U+0000 in a value or a key, at any depth, and nothing in clean data', () => {
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

  it('walks nesting deeper than the call stack would allow', () => {
    let deep: unknown = '\u0000';
    for (let level = 0; level < 200_000; level += 1) deep = [deep];
    expect(pathOfUnstorableString(deep)).toHaveLength(200_000);
  });

  it('refuses an event whose data holds U+0000, naming the path', () => {
    const parsed = publishEventSchema.safeParse({
      type: 'booking.created',
      data: { notes: ['ok', 'a\u0000b'] },
    });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['data', 'notes', 1],
        message: expect.stringContaining('U+0000') as unknown,
      }),
    ]);
    expect(
      publishEventSchema.safeParse({ type: 'booking.created', data: { notes: 'a\\u0000b' } }).success,
    ).toBe(true);
  });
});

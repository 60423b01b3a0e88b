import { isMicrosecondInstant } from '@skyhook/persistence';
import { ApiError } from './api-error';
import { decodePagePosition, encodePagePosition } from './page-position-cursor';

describe('page position cursor', () => {
  it('round-trips a position with microsecond precision', () => {
    const position = { at: '2026-05-31T18:09:12.123456Z', id: 'del_abc' };
    const encoded = encodePagePosition(position);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodePagePosition(encoded)).toEqual(position);
  });

  it.each([
    ['not base64 JSON', 'not-a-cursor'],
    ['an empty string', ''],
    ['JSON of the wrong shape', Buffer.from('{"a":1}').toString('base64url')],
    ['extra fields', Buffer.from('{"t":"2026-05-31T18:09:12.123456Z","i":"d","x":1}').toString('base64url')],
    ['a millisecond instant', Buffer.from('{"t":"2026-05-31T18:09:12.123Z","i":"d"}').toString('base64url')],
    ['an impossible date', Buffer.from('{"t":"2026-02-30T18:09:12.123456Z","i":"d"}').toString('base64url')],
    [
      'an id with SQL in it',
      Buffer.from(`{"t":"2026-05-31T18:09:12.123456Z","i":"x' OR 1=1 --"}`).toString('base64url'),
    ],
  ])('refuses %s with a 400 that says what to pass', (_, cursor) => {
    expect(() => decodePagePosition(cursor)).toThrow(ApiError);
    expect(() => decodePagePosition(cursor)).toThrow(
      'invalid cursor: pass back the nextCursor of a previous page',
    );
  });

  it('accepts only real UTC instants with six fractional digits', () => {
    expect(isMicrosecondInstant('2024-02-29T00:00:00.000001Z')).toBe(true);
    expect(isMicrosecondInstant('2026-02-29T00:00:00.000001Z')).toBe(false);
    expect(isMicrosecondInstant('2026-01-01T24:00:00.000000Z')).toBe(false);
    expect(isMicrosecondInstant('2026-01-01T00:00:00.000000+01:00')).toBe(false);
  });
});

import {
  COPY_PIECE_CHARACTERS,
  copyJson,
  copyScalar,
  copyText,
  copyTextPieces,
  jsonForPostgres,
} from './copy-rows';

describe('COPY text format values', () => {
  it('writes NULL as \\N and plain text as it is', () => {
    expect(copyText(null)).toBe('\\N');
    expect(copyText('')).toBe('');
    expect(copyText('del_1 ✈ café')).toBe('del_1 ✈ café');
  });

  it('escapes what would split a row or a column, so a hostile string stays one value', () => {
    expect(copyText('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    // The two characters \N are text, not NULL.
    expect(copyText('\\N')).toBe('\\\\N');
    expect(copyText('end\\')).toBe('end\\\\');
  });

  it('writes U+0000, which PostgreSQL text cannot hold, as U+FFFD', () => {
    expect(copyText('a\u0000b\u0000')).toBe('a\uFFFDb\uFFFD');
  });

  it('writes numbers and booleans as PostgreSQL reads them, and refuses what no column holds', () => {
    expect(copyScalar(41.7)).toBe('41.7');
    expect(copyScalar(-3)).toBe('-3');
    expect(copyScalar(true)).toBe('t');
    expect(copyScalar(false)).toBe('f');
    expect(copyScalar(null)).toBe('\\N');
    expect(() => copyScalar(Number.NaN)).toThrow(RangeError);
    expect(() => copyScalar(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });

  it('writes JSON with its backslashes escaped for COPY, NULL for null and undefined', () => {
    expect(copyJson({ note: 'quote " and backslash \\', line: 'a\nb' })).toBe(
      '{"note":"quote \\\\" and backslash \\\\\\\\","line":"a\\\\nb"}',
    );
    expect(copyJson(null)).toBe('\\N');
    expect(copyJson(undefined)).toBe('\\N');
  });

  it('writes a U+0000 inside JSON as U+FFFD, and leaves the text "\\u0000" alone', () => {
    expect(jsonForPostgres(JSON.stringify({ a: 'x\u0000y' }))).toBe('{"a":"x\\ufffdy"}');
    expect(jsonForPostgres(JSON.stringify({ a: 'x\\u0000y' }))).toBe('{"a":"x\\\\u0000y"}');
    expect(jsonForPostgres(JSON.stringify({ a: '\\\u0000' }))).toBe('{"a":"\\\\\\ufffd"}');
    expect(JSON.parse(jsonForPostgres(JSON.stringify({ 'k\u0000': ['\u0000'] })))).toEqual({
      'k\uFFFD': ['\uFFFD'],
    });
    const untouched = JSON.stringify({ a: 'no nul here \\ at all', pair: '😀' });
    expect(jsonForPostgres(untouched)).toBe(untouched);
  });

  it('writes an unpaired surrogate inside JSON as U+FFFD, and leaves a pair and the text alone', () => {
    expect(jsonForPostgres(JSON.stringify({ high: 'a\ud800b', low: '\udfff' }))).toBe(
      '{"high":"a\\ufffdb","low":"\\ufffd"}',
    );
    expect(JSON.parse(jsonForPostgres(JSON.stringify(['😀', '\ude00😀\ud83d'])))).toEqual([
      '😀',
      '\uFFFD😀\uFFFD',
    ]);
    expect(jsonForPostgres(JSON.stringify('the text \\ud800'))).toBe('"the text \\\\ud800"');
    expect(copyJson({ lone: '\udbff' })).toBe('{"lone":"\\\\ufffd"}');
  });
});

describe('COPY text in pieces', () => {
  const line = (n: number) => `${copyScalar(n)}\t${copyText('x'.repeat(n % 700))}\n`;

  it('holds every line once and in order, each piece ending on a whole line', () => {
    const rows = Array.from({ length: 5_000 }, (_, n) => n);
    const pieces = copyTextPieces(rows, line);
    expect(pieces.join('')).toBe(rows.map(line).join(''));
    expect(pieces.length).toBeGreaterThan(1);
    for (const piece of pieces) expect(piece.endsWith('\n')).toBe(true);
  });

  it('starts a new piece once one reaches the size, so no piece exceeds it by more than a line', () => {
    const rows = Array.from({ length: 5_000 }, (_, n) => n);
    const longestLine = Math.max(...rows.map((n) => line(n).length));
    const pieces = copyTextPieces(rows, line);
    for (const piece of pieces.slice(0, -1))
      expect(piece.length).toBeGreaterThanOrEqual(COPY_PIECE_CHARACTERS);
    for (const piece of pieces) expect(piece.length).toBeLessThan(COPY_PIECE_CHARACTERS + longestLine);
  });

  it('gives no piece for no rows, and one piece for a single line longer than the size', () => {
    expect(copyTextPieces([], line)).toEqual([]);
    const long = 'y'.repeat(COPY_PIECE_CHARACTERS * 2);
    expect(copyTextPieces([long], (text) => `${text}\n`)).toEqual([`${long}\n`]);
  });
});

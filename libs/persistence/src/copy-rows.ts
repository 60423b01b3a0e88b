import { finished } from 'node:stream/promises';
import { from as copyFrom } from 'pg-copy-streams';
import { type QueryRunner } from 'typeorm';

/**
 * Rows for `COPY … FROM STDIN` in PostgreSQL's text format: one line per row, columns split by
 * tabs, `\N` for NULL, and backslash escapes for the backslash, tab, newline and carriage
 * return a value may hold (https://www.postgresql.org/docs/current/sql-copy.html, "Text Format").
 * COPY is the cheapest way into a table: measured here it took a third of the PostgreSQL CPU an
 * `INSERT … SELECT FROM json_to_recordset(…)` of the same attempt rows took (bench/RESULTS.md),
 * because the server splits lines on tabs instead of parsing a JSON document row by row.
 */

const NEEDS_ESCAPE = /[\\\t\n\r\0]/;
const ESCAPED = /[\\\t\n\r\0]/g;

/**
 * PostgreSQL's text types cannot hold U+0000 at all (COPY refuses the byte, JSON input the
 * `\u0000` escape), and its JSON input refuses an unpaired surrogate (`\ud800` alone). A
 * receiver's response or a publisher's string can carry either; refusing it would fail the
 * whole write, for ever, so each is stored as U+FFFD, the replacement character, as undecodable
 * bytes are. (Outside JSON an unpaired surrogate needs nothing here: encoding the rows as UTF-8
 * already writes it as U+FFFD.)
 */
const REPLACEMENT_CHARACTER = '\uFFFD';

function escapeCharacter(character: string): string {
  switch (character) {
    case '\\':
      return '\\\\';
    case '\t':
      return '\\t';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    default:
      return REPLACEMENT_CHARACTER;
  }
}

/** A text column's value, or `\N` for NULL. */
export function copyText(value: string | null): string {
  if (value === null) return '\\N';
  return NEEDS_ESCAPE.test(value) ? value.replace(ESCAPED, escapeCharacter) : value;
}

/** An integer, float or boolean column's value, or `\N` for NULL. */
export function copyScalar(value: number | boolean | null): string {
  if (value === null) return '\\N';
  if (typeof value === 'boolean') return value ? 't' : 'f';
  if (!Number.isFinite(value)) throw new RangeError(`a column value must be a finite number, not ${value}`);
  return String(value);
}

/** A `json`/`jsonb` column's value: the JSON text of `value`, or `\N` for NULL. */
export function copyJson(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  return copyText(jsonForPostgres(JSON.stringify(value)));
}

/**
 * What `JSON.stringify` writes for U+0000 (`\u0000`) and for an unpaired surrogate (`\ud800` to
 * `\udfff`: a paired one it writes as the character itself), and an escaped backslash, matched
 * so that the text after it (`\\u0000` is the text "\u0000") is never read as an escape.
 */
const UNSTORABLE_ESCAPE_OR_BACKSLASH = /\\(?:\\|u0000|ud[89a-f][0-9a-f]{2})/g;
const MAY_HOLD_UNSTORABLE_ESCAPE = /\\u(?:0000|d[89a-f])/;

/**
 * `json` as `JSON.stringify` wrote it, with what PostgreSQL's JSON input refuses (U+0000, an
 * unpaired surrogate) written as U+FFFD instead. For JSON sent to PostgreSQL by any route.
 */
export function jsonForPostgres(json: string): string {
  if (!MAY_HOLD_UNSTORABLE_ESCAPE.test(json)) return json;
  return json.replace(UNSTORABLE_ESCAPE_OR_BACKSLASH, (match) => (match === '\\\\' ? match : '\\ufffd'));
}

/**
 * The most characters a piece of COPY text gathers before a new one starts. One batch's rows
 * run to megabytes; as one string, V8 builds a rope that must be flattened into a fresh
 * large-object allocation and then encoded into a fresh buffer of the same size, both touching
 * new memory page by page. Pieces of this size stay in V8's ordinary heap and Node's reused
 * buffers: measured in process, building and encoding 8,000 rows took 0.8–1.9 ms of CPU in
 * pieces against 3.6–5.4 ms (plus 3.8–4.2 ms in the kernel) as one string.
 */
export const COPY_PIECE_CHARACTERS = 32_768;

/**
 * COPY text for `rows`, one line per row from `line` (built with the functions above and ending
 * in a newline), in pieces of about `COPY_PIECE_CHARACTERS` that each end on a whole line.
 */
export function copyTextPieces<Row>(rows: readonly Row[], line: (row: Row) => string): string[] {
  const pieces: string[] = [];
  let piece = '';
  for (const row of rows) {
    piece += line(row);
    if (piece.length >= COPY_PIECE_CHARACTERS) {
      pieces.push(piece);
      piece = '';
    }
  }
  if (piece.length > 0) pieces.push(piece);
  return pieces;
}

/**
 * Streams `pieces` of COPY text (from `copyTextPieces`) into `table` with `COPY … FROM STDIN`,
 * on the connection of `runner`, so inside its transaction when it has one. Resolves with the
 * number of rows copied; a row the table refuses (a key already there, say) rejects with the
 * server's error, and the transaction cannot go on.
 */
export async function copyRows(
  runner: QueryRunner,
  table: string,
  columns: readonly string[],
  pieces: readonly string[],
): Promise<number> {
  const client = (await runner.connect()) as { query(stream: ReturnType<typeof copyFrom>): unknown };
  const quotedColumns = columns.map(quoteIdentifier).join(', ');
  const stream = copyFrom(`COPY ${quoteIdentifier(table)} (${quotedColumns}) FROM STDIN`);
  client.query(stream);
  // Every piece is in memory already, so waiting for the stream to drain would hold no less.
  for (const piece of pieces) stream.write(piece);
  stream.end();
  await finished(stream);
  return stream.rowCount;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

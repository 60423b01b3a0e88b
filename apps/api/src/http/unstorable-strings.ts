/**
 * Strings PostgreSQL cannot store: U+0000 (no text type holds it) and an unpaired UTF-16
 * surrogate (its JSON input refuses one, and UTF-8 has no encoding for it). Everything the API
 * accepts ends up in PostgreSQL (subscriptions, organisations, and a published event's copy in
 * delivery history, which resend and replay send again), so a request holding one is refused
 * with a 400 naming where, before it can fail deep inside as a 500 or be stored altered.
 */
export const UNSTORABLE_STRING_MESSAGE =
  'must not contain U+0000 (the NUL character) or an unpaired surrogate (\\ud800 to \\udfff without its pair), which cannot be stored';

/**
 * Numbers that would not reach the receiver as published: JSON.parse turns `1e400` into Infinity
 * (which JSON.stringify writes as `null`), and an integer beyond ±(2^53 − 1) into the nearest
 * double (`18446744073709551617` arrives as `18446744073709552000`). Refused, not altered.
 */
export const NON_FINITE_NUMBER_MESSAGE =
  'must be a finite number (JSON has no Infinity; 1e400 is out of range)';
export const INEXACT_INTEGER_MESSAGE =
  'is an integer beyond ±9007199254740991, which JSON numbers here cannot keep exactly; send it as a string';

/**
 * How deep a request body may nest. JSON.parse reads any depth, but `JSON.stringify` (producing
 * the event to Kafka) and PostgreSQL's JSON input recurse: 100,000 levels answered a 500. Real
 * payloads stay within a dozen or two levels.
 */
export const MAX_NESTING_DEPTH = 64;
export const TOO_DEEP_MESSAGE = `nested deeper than ${MAX_NESTING_DEPTH} levels`;

/** What in a request cannot be stored, and where. */
export interface UnstorableInput {
  readonly path: (string | number)[];
  readonly message: string;
}

/** A place in the walked value: its key in its parent, and the parent's place. */
interface WalkedPlace {
  readonly value: unknown;
  readonly key: string | number | undefined;
  readonly parent: WalkedPlace | undefined;
  /** Keys from the root to here. */
  readonly depth: number;
}

/** A UTF-16 surrogate without its other half: not a character, and not valid in UTF-8. */
const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** PostgreSQL's text and JSON types cannot store it (see `jsonForPostgres` in persistence). */
function isUnstorable(text: string): boolean {
  return text.includes('\u0000') || UNPAIRED_SURROGATE.test(text);
}

/**
 * The first place in `value` that cannot be stored or sent as it came: a string, key or value,
 * holding U+0000 or an unpaired surrogate, a number that is not finite or an integer too large to
 * keep exactly, or a place deeper than `maxDepth` keys; undefined if there is none.
 * Walked with a stack of its own, each place linked to its parent (a path is built only for
 * the place found), so time and memory grow with the size of the value, and no depth overflows
 * the call stack.
 */
export function findUnstorableInput(
  value: unknown,
  maxDepth = Number.POSITIVE_INFINITY,
): UnstorableInput | undefined {
  const pending: WalkedPlace[] = [{ value, key: undefined, parent: undefined, depth: 0 }];
  for (let place = pending.pop(); place !== undefined; place = pending.pop()) {
    const current = place.value;
    if (place.depth > maxDepth) return { path: pathTo(place), message: TOO_DEEP_MESSAGE };
    const depth = place.depth + 1;
    if (typeof current === 'string') {
      if (isUnstorable(current)) return { path: pathTo(place), message: UNSTORABLE_STRING_MESSAGE };
    } else if (typeof current === 'number') {
      if (!Number.isFinite(current)) return { path: pathTo(place), message: NON_FINITE_NUMBER_MESSAGE };
      if (Number.isInteger(current) && !Number.isSafeInteger(current)) {
        return { path: pathTo(place), message: INEXACT_INTEGER_MESSAGE };
      }
    } else if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index -= 1) {
        pending.push({ value: current[index] as unknown, key: index, parent: place, depth });
      }
    } else if (typeof current === 'object' && current !== null) {
      const entries = Object.entries(current);
      for (let index = entries.length - 1; index >= 0; index -= 1) {
        const [key, member] = entries[index] as [string, unknown];
        if (isUnstorable(key)) return { path: [...pathTo(place), key], message: UNSTORABLE_STRING_MESSAGE };
        pending.push({ value: member, key, parent: place, depth });
      }
    }
  }
  return undefined;
}

function pathTo(place: WalkedPlace): (string | number)[] {
  const path: (string | number)[] = [];
  for (let at: WalkedPlace | undefined = place; at?.key !== undefined; at = at.parent) path.push(at.key);
  return path.reverse();
}

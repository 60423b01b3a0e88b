import { compile as compileJsonPointer } from 'jsonpointer';
import { z } from 'zod';

/**
 * A declarative payload template: a JSON document shaped like the receiver's body, in which a
 * few directive objects stand for values taken from the delivery. It renames, picks, flattens
 * and adds constants; it cannot compute, loop or call anything, so a partner's template can
 * never execute code or cost more than one walk of itself (see ADR 0012).
 *
 * - A string, number, boolean or `null` is a constant: `"source": "skyhook"`.
 * - `{ "$ref": "/event/data/review_id" }` is the value at that JSON Pointer (RFC 6901) in the
 *   {@link PayloadTemplateSource}. When nothing is there, the key is left out of its object
 *   (`null` in an array), unless `"default": <constant>` says what to put instead.
 *   `"format": "iso8601-seconds"` (or `"iso8601-millis"`) writes a timestamp in UTC with whole
 *   seconds (`2026-05-30T18:09:12Z`) or milliseconds (`2026-05-31T14:03:22.000Z`), as a
 *   receiver's documentation prints it; a value that is not an ISO 8601 date-time is left as is.
 * - `{ "$const": <any JSON> }` is that JSON as is, for a literal that looks like a directive.
 * - In an object, `"$spread": "/event/data"` (or a list of pointers) copies that object's
 *   fields in at that position: the flattening FlexOrch's `{event, job_id, status, …,
 *   timestamp}` needs. Keys written in the template win over spread ones.
 * - Arrays and other objects are rendered member by member, keys in template order.
 *
 * Any other key starting with `$` is refused, so a misspelt directive is an error when the
 * subscription is saved rather than a literal key in every delivery.
 */
export type PayloadTemplate =
  string | number | boolean | null | PayloadTemplate[] | { [key: string]: PayloadTemplate };

/**
 * What a template reads from. Pointers must start at `/event/<field>` or `/delivery/<field>`
 * with one of these fields; below `scope` and `data` anything the publisher sent may be named.
 */
export interface PayloadTemplateSource {
  readonly event: {
    readonly id: string;
    readonly type: string;
    readonly organisationId: string;
    readonly scope: Readonly<Record<string, string>>;
    readonly occurredAt: string;
    readonly data: Readonly<Record<string, unknown>>;
  };
  readonly delivery: {
    /** The stable delivery id (AviationAlley's body `id` "matches X-AviationAlley-Delivery"). */
    readonly id: string;
    readonly subscriptionId: string;
    /** True for a `webhook.test` delivery. */
    readonly test: boolean;
  };
}

const SOURCE_FIELDS: Readonly<Record<string, readonly string[]>> = {
  event: ['id', 'type', 'organisationId', 'scope', 'occurredAt', 'data'],
  delivery: ['id', 'subscriptionId', 'test'],
};
/** Fields whose insides are the publisher's: pointers may go deeper than the field itself. */
const OPEN_FIELDS = new Set(['/event/scope', '/event/data']);
/**
 * Timestamp formats a `$ref` may ask for. Seeds print whole seconds (Flightline's
 * `occurred_at`, FlexOrch's `timestamp`) or milliseconds (AviationAlley's `createdAt`), while
 * publishers may send either, or an offset: a receiver parsing its documented format strictly
 * must get exactly that.
 */
const TIMESTAMP_FORMATS: Readonly<Record<string, (instant: Date) => string>> = {
  'iso8601-seconds': (instant) => `${instant.toISOString().slice(0, 19)}Z`,
  'iso8601-millis': (instant) => instant.toISOString(),
};
/** What the publisher's `occurredAt` (and data fields) look like when they are date-times. */
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i;
/** Never looked up: they name the prototype chain, not data. */
const FORBIDDEN_TOKENS = new Set(['__proto__', 'constructor', 'prototype']);

export const PAYLOAD_TEMPLATE_LIMITS = {
  /** The template's own JSON text. */
  maxBytes: 8 * 1024,
  maxDepth: 8,
  /** Every value, key/value pair and directive in the template. */
  maxNodes: 256,
  maxPointerLength: 256,
} as const;

interface TemplateIssue {
  readonly path: PropertyKey[];
  readonly message: string;
}

export const payloadTemplateSchema = z.json().superRefine((template, context) => {
  const bytes = Buffer.byteLength(JSON.stringify(template), 'utf8');
  if (bytes > PAYLOAD_TEMPLATE_LIMITS.maxBytes) {
    context.addIssue({
      code: 'custom',
      message: `must be at most ${PAYLOAD_TEMPLATE_LIMITS.maxBytes} bytes of JSON, is ${bytes}`,
    });
    return;
  }
  for (const issue of templateIssues(template)) {
    context.addIssue({ code: 'custom', ...issue });
  }
});

function templateIssues(template: PayloadTemplate): TemplateIssue[] {
  const issues: TemplateIssue[] = [];
  let nodes = 0;
  const visit = (node: PayloadTemplate, path: PropertyKey[], depth: number): void => {
    nodes += 1;
    if (nodes === PAYLOAD_TEMPLATE_LIMITS.maxNodes + 1) {
      issues.push({ path: [], message: `must have at most ${PAYLOAD_TEMPLATE_LIMITS.maxNodes} values` });
    }
    if (depth > PAYLOAD_TEMPLATE_LIMITS.maxDepth) {
      issues.push({ path, message: `nested deeper than ${PAYLOAD_TEMPLATE_LIMITS.maxDepth} levels` });
      return;
    }
    if (Array.isArray(node)) {
      node.forEach((member, index) => visit(member, [...path, index], depth + 1));
      return;
    }
    if (typeof node !== 'object' || node === null) return;

    if ('$ref' in node) {
      const { $ref: pointer, default: fallback, format, ...rest } = node;
      for (const key of Object.keys(rest)) {
        issues.push({
          path: [...path, key],
          message: 'a $ref directive takes only "$ref", "default" and "format"',
        });
      }
      issues.push(...pointerIssues(pointer, [...path, '$ref']));
      if (format !== undefined && (typeof format !== 'string' || !Object.hasOwn(TIMESTAMP_FORMATS, format))) {
        issues.push({
          path: [...path, 'format'],
          message: `must be one of ${Object.keys(TIMESTAMP_FORMATS).join(', ')}`,
        });
      }
      if (fallback !== undefined && typeof fallback === 'object' && fallback !== null) {
        issues.push({ path: [...path, 'default'], message: 'must be a string, number, boolean or null' });
      }
      return;
    }
    if ('$const' in node) {
      if (Object.keys(node).length !== 1) {
        issues.push({ path, message: 'a $const directive takes only "$const"' });
      }
      return;
    }
    for (const [key, member] of Object.entries(node)) {
      if (key === '$spread') {
        const pointers = Array.isArray(member) ? member : [member];
        pointers.forEach((pointer, index) =>
          issues.push(
            ...pointerIssues(pointer, Array.isArray(member) ? [...path, key, index] : [...path, key]),
          ),
        );
      } else if (key.startsWith('$')) {
        issues.push({
          path: [...path, key],
          message:
            'keys starting with $ are directives ($ref, $const, $spread); write {"$const": …} for a literal',
        });
      } else {
        visit(member, [...path, key], depth + 1);
      }
    }
  };
  visit(template, [], 0);
  return issues;
}

function pointerIssues(pointer: unknown, path: PropertyKey[]): TemplateIssue[] {
  if (typeof pointer !== 'string') {
    return [{ path, message: 'must be a JSON Pointer string such as "/event/data/id"' }];
  }
  if (pointer.length > PAYLOAD_TEMPLATE_LIMITS.maxPointerLength) {
    return [{ path, message: `must be at most ${PAYLOAD_TEMPLATE_LIMITS.maxPointerLength} characters` }];
  }
  const tokens = pointer.split('/');
  const [leading, root, field] = tokens;
  if (leading !== '' || root === undefined || field === undefined || !(root in SOURCE_FIELDS)) {
    return [{ path, message: `must start with /event/<field> or /delivery/<field>, got "${pointer}"` }];
  }
  if (!SOURCE_FIELDS[root]!.includes(field)) {
    return [{ path, message: `/${root} has no field "${field}"; it has ${SOURCE_FIELDS[root]!.join(', ')}` }];
  }
  if (tokens.length > 3 && !OPEN_FIELDS.has(`/${root}/${field}`)) {
    return [{ path, message: `/${root}/${field} has no fields to point into` }];
  }
  if (/~(?![01])/.test(pointer)) {
    return [{ path, message: 'a "~" must be escaped as ~0 ("~") or ~1 ("/")' }];
  }
  if (tokens.some((token) => FORBIDDEN_TOKENS.has(token))) {
    return [{ path, message: 'must not name __proto__, constructor or prototype' }];
  }
  return [];
}

/** Builds the receiver's body from a delivery; compiled once per policy. */
export type PayloadTemplateRenderer = (source: PayloadTemplateSource) => unknown;

/** Marks a value a $ref did not find, so the enclosing object leaves its key out. */
const ABSENT = Symbol('absent');

type CompiledNode = (source: PayloadTemplateSource) => unknown;

/**
 * Turns a validated template into closures: pointers are parsed once, constants are captured
 * once, and rendering is a walk of plain function calls with no parsing or validation left.
 */
export function compilePayloadTemplate(template: PayloadTemplate): PayloadTemplateRenderer {
  const root = compileNode(template);
  return (source) => {
    const rendered = root(source);
    return rendered === ABSENT ? null : rendered;
  };
}

function compileNode(node: PayloadTemplate): CompiledNode {
  if (typeof node !== 'object' || node === null) {
    return () => node;
  }
  if (Array.isArray(node)) {
    const members = node.map(compileNode);
    return (source) =>
      members.map((member) => {
        const value = member(source);
        return value === ABSENT ? null : value;
      });
  }
  if ('$ref' in node) {
    const lookup = compileLookup(node['$ref'] as string);
    const format = typeof node['format'] === 'string' ? TIMESTAMP_FORMATS[node['format']] : undefined;
    const read =
      format === undefined ? lookup : (source: PayloadTemplateSource) => formatted(lookup(source), format);
    const fallback = 'default' in node ? node['default'] : ABSENT;
    return (source) => {
      const value = read(source);
      return value === undefined ? fallback : value;
    };
  }
  if ('$const' in node) {
    const constant = node['$const'];
    return () => constant;
  }
  return compileObject(node);
}

type ObjectPart =
  | { readonly kind: 'key'; readonly key: string; readonly value: CompiledNode }
  | { readonly kind: 'spread'; readonly read: (source: PayloadTemplateSource) => unknown };

/** A date-time string written in `format`; anything else as it is. */
function formatted(value: unknown, format: (instant: Date) => string): unknown {
  if (typeof value !== 'string' || !ISO_DATE_TIME.test(value)) return value;
  const instant = new Date(value);
  return Number.isNaN(instant.getTime()) ? value : format(instant);
}

function compileObject(node: { [key: string]: PayloadTemplate }): CompiledNode {
  const parts: ObjectPart[] = [];
  const writtenKeys = new Set<string>();
  for (const [key, member] of Object.entries(node)) {
    if (key === '$spread') {
      const pointers = Array.isArray(member) ? member : [member];
      for (const pointer of pointers) {
        parts.push({ kind: 'spread', read: compileLookup(pointer as string) });
      }
    } else {
      parts.push({ kind: 'key', key, value: compileNode(member) });
      writtenKeys.add(key);
    }
  }
  return (source) => {
    const rendered: Record<string, unknown> = {};
    for (const part of parts) {
      if (part.kind === 'key') {
        const value = part.value(source);
        if (value !== ABSENT) rendered[part.key] = value;
        continue;
      }
      const spread = part.read(source);
      if (typeof spread !== 'object' || spread === null || Array.isArray(spread)) continue;
      for (const [key, value] of Object.entries(spread)) {
        // A written key keeps its template position and value, whatever the spread holds.
        if (!writtenKeys.has(key)) rendered[key] = value;
      }
    }
    return rendered;
  };
}

function compileLookup(pointer: string): (source: PayloadTemplateSource) => unknown {
  const compiled = compileJsonPointer(pointer);
  return (source) => {
    const value: unknown = compiled.get(source);
    // Only own JSON data: an inherited method (say `/event/data/toString`) is not a value.
    return typeof value === 'function' ? undefined : value;
  };
}

import { z } from 'zod';

/** RFC 9110 `token`: the only characters an HTTP field name may contain. */
const HTTP_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
export const HEADER_NAME_MAX_LENGTH = 64;

/**
 * Names a policy may not claim (compared case-insensitively). Each is either set by the HTTP
 * client and meaningless or harmful to override (framing, hop-by-hop, host), set by Skyhook
 * itself (content type, user agent, the Standard Webhooks trio, which a receiver must be able
 * to trust whatever scheme the policy uses), or a credential header: policy values are stored
 * and returned in clear, so they are no place for credentials.
 */
export const RESERVED_HEADER_NAMES: ReadonlySet<string> = new Set([
  'host',
  'content-length',
  'content-type',
  'content-encoding',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'date',
  'via',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  'user-agent',
  'accept-encoding',
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
]);

/** Fetch's forbidden prefixes: proxy controls and browser-only security headers. */
const RESERVED_HEADER_PREFIXES = ['proxy-', 'sec-'] as const;

export function isReservedHeaderName(name: string): boolean {
  const lowerCaseName = name.toLowerCase();
  return (
    RESERVED_HEADER_NAMES.has(lowerCaseName) ||
    RESERVED_HEADER_PREFIXES.some((prefix) => lowerCaseName.startsWith(prefix))
  );
}

/**
 * A header name a policy may set. The caller's spelling is kept (receivers' docs print
 * `X-AviationAlley-Signature`), but every comparison is case-insensitive, as in HTTP.
 */
export const headerNameSchema = z
  .string({
    error: (issue) => (issue.input === undefined ? 'a header name is required' : 'must be a string'),
  })
  // `abort` keeps an empty or over-long name to one issue instead of also failing the pattern.
  .min(1, { error: 'a header name is required', abort: true })
  .max(HEADER_NAME_MAX_LENGTH, { error: `must be at most ${HEADER_NAME_MAX_LENGTH} characters`, abort: true })
  .regex(HTTP_TOKEN, "must be an HTTP header name: letters, digits and !#$%&'*+-.^_`|~ only")
  .refine((name) => !isReservedHeaderName(name), {
    error: (issue) => `${String(issue.input)} is reserved and cannot be set by a delivery policy`,
  });

export const HEADER_VALUE_MAX_LENGTH = 256;
/** Visible ASCII and inner spaces only: no CR/LF (header injection), nothing a proxy would mangle. */
const HEADER_VALUE = /^[\x21-\x7E](?:[\x20-\x7E]*[\x21-\x7E])?$/;

export const headerValueSchema = z
  .string()
  .max(HEADER_VALUE_MAX_LENGTH, `must be at most ${HEADER_VALUE_MAX_LENGTH} characters`)
  .regex(HEADER_VALUE, 'must be non-empty visible ASCII, without leading or trailing whitespace');

export const EXTRA_HEADERS_MAX_COUNT = 10;

/** Constant headers added to every delivery, e.g. `{ "X-Partner-Environment": "production" }`. */
export const extraHeadersSchema = z
  .record(headerNameSchema, headerValueSchema)
  .superRefine((headers, context) => {
    const names = Object.keys(headers);
    if (names.length > EXTRA_HEADERS_MAX_COUNT) {
      context.addIssue({ code: 'custom', message: `at most ${EXTRA_HEADERS_MAX_COUNT} extra headers` });
    }
    const seen = new Set<string>();
    for (const name of names) {
      if (seen.has(name.toLowerCase())) {
        context.addIssue({
          code: 'custom',
          path: [name],
          message: `${name} is given twice (header names are case-insensitive)`,
        });
      }
      seen.add(name.toLowerCase());
    }
  });

/**
 * Socket errors that mean the server could not be reached or went away mid-conversation.
 * AggregateError carries one of them too (Node tries every address of a host and gathers the
 * refusals).
 */
const UNREACHABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/**
 * SQLSTATEs the server answers while it cannot serve, rather than because of the statement:
 * 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now (starting, recovering),
 * 53300 too_many_connections, 57014 query_canceled (the statement timeout, the bound on a
 * database that answers too slowly). Class 08 (connection exception) is matched as a class.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);

/**
 * What pg and pg-pool say, without a code, when a connection cannot be had or dies: the pool's
 * `connectionTimeoutMillis` passed while every connection was busy or connecting, the server
 * closed the socket, the client's `query_timeout` passed.
 */
const UNAVAILABLE_MESSAGES = [
  /^timeout exceeded when trying to connect$/i,
  /^Connection terminated/i,
  /^Query read timeout$/i,
  /connection error and is not queryable/i,
];

/**
 * Whether `error` says that PostgreSQL is unreachable, shutting down or not answering in time
 * (worth a retry later: a 503), as opposed to a statement the database refused (a bug or bad
 * input). TypeORM wraps driver errors (`driverError`) and Node chains causes, so both are
 * followed.
 */
export function isDatabaseUnavailableError(error: unknown): boolean {
  return someInChain(error, 0, (candidate) => {
    const code = typeof candidate.code === 'string' ? candidate.code : undefined;
    if (code !== undefined) {
      if (UNREACHABLE_SOCKET_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
      if (/^08[0-9A-Z]{3}$/.test(code)) return true;
    }
    const message = typeof candidate.message === 'string' ? candidate.message : '';
    return UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(message));
  });
}

interface ErrorLike {
  readonly code?: unknown;
  readonly message?: unknown;
  readonly driverError?: unknown;
  readonly cause?: unknown;
  readonly errors?: unknown;
}

/** A chain deeper than this is not an error anyone built on purpose (or it is a cycle). */
const MAX_CHAIN_DEPTH = 5;

function someInChain(error: unknown, depth: number, test: (candidate: ErrorLike) => boolean): boolean {
  if (depth > MAX_CHAIN_DEPTH || typeof error !== 'object' || error === null) return false;
  const candidate = error as ErrorLike;
  if (test(candidate)) return true;
  const nested = [
    candidate.driverError,
    candidate.cause,
    ...(Array.isArray(candidate.errors) ? (candidate.errors as unknown[]) : []),
  ];
  return nested.some((inner) => someInChain(inner, depth + 1, test));
}

import { type Client, createClient, createConfig } from './generated/client';

export interface SkyhookApiOptions {
  /** Where the api answers, e.g. `https://skyhook.example.com` (no trailing path). */
  readonly baseUrl: string;
  /** The bearer credential: an organisation API key (`sk_…`) or, for `/admin` routes, the admin token. */
  readonly credential: string;
  /** Swapped in tests; the global fetch otherwise. */
  readonly fetch?: typeof fetch;
  /** A request that has not answered within this is abandoned (default 30 s). */
  readonly timeoutMs?: number;
}

/**
 * Every failure of a call, as one error: the api's refusals (`status`, its `code` and `message`,
 * `details`), an answer that is not the api's (a proxy's page: no code, the start of its text), or
 * no answer at all (`status` undefined, `reason` the socket's error code or the timeout).
 */
export class SkyhookApiError extends Error {
  override readonly name = 'SkyhookApiError';

  constructor(
    message: string,
    readonly method: string,
    readonly path: string,
    readonly status: number | undefined,
    /** `CODE: message` from the api's error body, or the start of whatever else answered. */
    readonly detail: string,
    readonly code: string | undefined,
    readonly details: unknown,
  ) {
    super(message);
  }
}

/**
 * A client of the api for the generated operations (`subscriptionsList({ client, … })`): bearer
 * credential on every request, a timeout, and every failure thrown as a {@link SkyhookApiError}
 * (calls are made with `throwOnError`, so a call that returns has its `data`).
 */
export function skyhookApi(options: SkyhookApiOptions): Client {
  const fetchImpl = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const client = createClient(
    createConfig({
      baseUrl: options.baseUrl.replace(/\/+$/, ''),
      auth: () => options.credential,
      throwOnError: true,
      fetch: (input: string | URL | Request, init?: RequestInit) => {
        const signals = [AbortSignal.timeout(timeoutMs)];
        if (input instanceof Request) signals.push(input.signal);
        if (init?.signal) signals.push(init.signal);
        return fetchImpl(input, { ...init, signal: AbortSignal.any(signals) });
      },
    }),
  );
  client.interceptors.error.use((error, response, request) => {
    const method = request?.method ?? 'request';
    const path = request === undefined ? '' : new URL(request.url).pathname;
    const failure = (message: string, detail: string, body?: ApiErrorBody) =>
      new SkyhookApiError(message, method, path, response?.status, detail, body?.code, body?.details);
    if (response === undefined) {
      const reason = reasonOf(error, timeoutMs);
      return failure(`cannot reach the api at ${options.baseUrl}: ${reason}`, reason);
    }
    if (response.ok) {
      // A 2xx whose body did not parse: not the api (a proxy, a wrong base URL).
      return failure(`the api answered ${method} ${path} with a body that is not JSON`, 'not JSON');
    }
    const body = apiErrorBodyOf(error);
    const detail =
      body === undefined
        ? (typeof error === 'string' ? error : JSON.stringify(error))
            .slice(0, 200)
            .replace(/\s+/g, ' ')
            .trim()
        : `${body.code}: ${body.message}`;
    return failure(`${method} ${path} failed with ${response.status}: ${detail}`, detail, body);
  });
  return client;
}

interface ApiErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details: unknown;
}

/** The api's error body, `{ error: { code, message, details } }`, or undefined for anything else. */
function apiErrorBodyOf(error: unknown): ApiErrorBody | undefined {
  if (typeof error !== 'object' || error === null || !('error' in error)) return undefined;
  const inner = error.error;
  if (typeof inner !== 'object' || inner === null) return undefined;
  const { code, message, details } = inner as Record<string, unknown>;
  if (typeof code !== 'string' || typeof message !== 'string') return undefined;
  return { code, message, details };
}

/** Checked by shape, not `instanceof`: fetch's DOMException may come from another realm. */
function reasonOf(error: unknown, timeoutMs: number): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const { name, message, cause } = error as { name?: unknown; message?: unknown; cause?: unknown };
  if (name === 'TimeoutError') return `no answer within ${timeoutMs / 1_000} s`;
  if (typeof cause === 'object' && cause !== null) {
    const { code, message: causeMessage } = cause as { code?: unknown; message?: unknown };
    if (typeof code === 'string') return code;
    if (typeof causeMessage === 'string') return causeMessage;
  }
  return typeof message === 'string' ? message : 'the request failed';
}

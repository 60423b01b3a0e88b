import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import { RESPONSE_BODY_EXCERPT_MAX } from '@skyhook/contracts';
import { type AttemptReport } from '@skyhook/delivery';
import { assertAddressAllowed, createGuardedLookup, UrlPolicyViolation } from '@skyhook/url-policy';

export interface WebhookHttpClientOptions {
  readonly connectionsPerOrigin: number;
  readonly allowLoopback: boolean;
}

/** A response body is read this far at most to keep the connection reusable; beyond, the connection is dropped. */
const RESPONSE_DRAIN_LIMIT = 64 * 1024;

/**
 * POSTs webhooks over a keep-alive connection pool (undici). Safe by construction: the
 * resolved address is checked against the SSRF policy when each connection is made (so a
 * host re-pointed at an internal address after registration is refused), redirects are never
 * followed (undici's `request` does not follow them), TLS certificates are verified, the whole
 * exchange is bounded by the policy's timeout and only the first 4 KiB of a response is kept.
 */
export class WebhookHttpClient {
  private readonly agent: Agent;

  constructor(private readonly options: WebhookHttpClientOptions) {
    this.agent = new Agent({
      connections: options.connectionsPerOrigin,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
      connect: {
        lookup: createGuardedLookup({ allowHttpLoopback: options.allowLoopback }),
        rejectUnauthorized: true,
      },
    });
  }

  async post(
    url: string,
    headers: Record<string, string>,
    body: Buffer,
    timeoutMs: number,
  ): Promise<AttemptReport> {
    const started = performance.now();
    const elapsed = () => Math.round((performance.now() - started) * 100) / 100;
    try {
      this.assertLiteralAddressAllowed(url);
    } catch (error) {
      return failureReport(error, elapsed(), false);
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const response = await request(url, {
        method: 'POST',
        headers,
        body,
        dispatcher: this.agent,
        signal: abort.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const bodyExcerpt = await readExcerpt(response.body);
      const retryAfter = response.headers['retry-after'];
      return {
        kind: 'response',
        status: response.statusCode,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        bodyExcerpt,
        durationMs: elapsed(),
      };
    } catch (error) {
      return failureReport(error, elapsed(), abort.signal.aborted);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** net.connect skips `lookup` for IP literals, so those are checked here. */
  private assertLiteralAddressAllowed(url: string): void {
    const hostname = new URL(url).hostname.replace(/^\[|\]$/g, '');
    if (isIP(hostname) !== 0)
      assertAddressAllowed(hostname, { allowHttpLoopback: this.options.allowLoopback });
  }
}

async function readExcerpt(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let read = 0;
  for await (const chunk of body) {
    read += chunk.length;
    if (kept < RESPONSE_BODY_EXCERPT_MAX) {
      chunks.push(chunk);
      kept += chunk.length;
    }
    if (read > RESPONSE_DRAIN_LIMIT) {
      body.destroy();
      break;
    }
  }
  // Cut on characters, not bytes, so a multi-byte character is never split into garbage.
  return Buffer.concat(chunks).toString('utf8').slice(0, RESPONSE_BODY_EXCERPT_MAX);
}

function failureReport(error: unknown, durationMs: number, timedOut: boolean): AttemptReport {
  const policyViolation = findCause(error, (cause) => cause instanceof UrlPolicyViolation);
  if (policyViolation instanceof UrlPolicyViolation) {
    return {
      kind: 'address-refused',
      errorCode: policyViolation.code,
      errorMessage: policyViolation.message,
      durationMs,
    };
  }
  const code = errorCodeOf(error);
  if (timedOut || TIMEOUT_CODES.has(code)) {
    return {
      kind: 'timeout',
      errorCode: timedOut ? 'TIMEOUT' : code,
      errorMessage: 'no complete response within the timeout',
      durationMs,
    };
  }
  return { kind: 'network-error', errorCode: code, errorMessage: messageOf(error), durationMs };
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

function findCause(error: unknown, matches: (cause: unknown) => boolean): unknown {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    if (matches(current)) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The most specific code in the cause chain (ECONNREFUSED rather than a wrapper's generic one). */
function errorCodeOf(error: unknown): string {
  let code = 'UNKNOWN';
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth += 1) {
    const candidate = (current as { code?: unknown }).code;
    if (typeof candidate === 'string' && candidate !== '') code = candidate;
    current = (current as { cause?: unknown }).cause;
  }
  return code.slice(0, 100);
}

function messageOf(error: unknown): string {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth += 1) {
    if (current.message !== '' && !messages.includes(current.message)) messages.push(current.message);
    current = current.cause;
  }
  return (messages.join(': ') || 'request failed').slice(0, 1_000);
}

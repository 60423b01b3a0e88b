import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerOptions,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, type Socket } from 'node:net';
import { testTlsCredentials } from './test-tls';

/** One request as it reached the receiver. */
export interface ReceivedWebhook {
  method: string;
  /** The request target as sent: the path plus any query string. */
  path: string;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The body exactly as its bytes arrived (signatures are verified over these). */
  rawBody: Buffer;
  /** `Date.now()` when the whole body had arrived. */
  receivedAt: number;
  /**
   * What the receiver answered, as soon as the behaviour decided it: its status (500 when the behaviour
   * threw or gave an unusable answer) and how long it waited first. Unset while the behaviour runs, and
   * when the sender hung up before there was anything to answer.
   */
  answer?: { status: number; delaySeconds: number };
  /**
   * `Date.now()` when the sender hung up before the answer was fully sent, typically because its own
   * timeout fired while the behaviour delayed the answer. Unset when the answer went out, and when it
   * was the receiver that dropped the connection (`close()`).
   */
  clientClosedAt?: number;
}

export interface ReceiverResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Wait this long before answering; other requests are answered meanwhile. */
  delayMs?: number;
}

/** Decides the answer to a request; `nthForPath` counts the requests to its path, from 1. */
export type ReceiverBehaviour = (request: ReceivedWebhook, nthForPath: number) => ReceiverResponse;

export interface WebhookReceiver {
  /** `https://localhost:PORT` (the test certificate's name), or `http://HOST:PORT` without TLS. */
  readonly origin: string;
  /** The origin plus the path. */
  url(path: string): string;
  /** Every request, in arrival order. */
  readonly received: readonly ReceivedWebhook[];
  /** The requests to one path (as in `ReceivedWebhook.path`), in arrival order. */
  receivedOn(path: string): ReceivedWebhook[];
  setBehaviour(behaviour: ReceiverBehaviour): void;
  /**
   * Resolves with every request received on the path (on any path when `undefined`) once there are at
   * least `count`; rejects after `timeoutMs` (default 10 s) saying what did arrive, or on `close()`.
   */
  waitForCount(path: string | undefined, count: number, timeoutMs?: number): Promise<ReceivedWebhook[]>;
  /** Stops listening and drops every connection, stalled requests included. */
  close(): Promise<void>;
}

export interface WebhookReceiverOptions {
  /** Serve HTTPS with the test certificate (trust `TEST_CA_CERT_PATH`). Default true. */
  tls?: boolean;
  /** The address to listen on. Default 127.0.0.1. */
  host?: string;
  /** Default: answer 200 at once. */
  behaviour?: ReceiverBehaviour;
}

const DEFAULT_WAIT_TIMEOUT_MS = 10_000;
const answerOk: ReceiverBehaviour = () => ({ status: 200 });

interface Waiter {
  readonly path: string | undefined;
  readonly count: number;
  readonly resolve: (requests: ReceivedWebhook[]) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * A real webhook endpoint on a free loopback port, for tests and benchmarks: records every request
 * (raw body bytes included) and answers as the behaviour says. Kept cheap per request (no logging, no
 * copies but the body) so it can take thousands of requests a second.
 */
export async function startWebhookReceiver(options: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const { tls = true, host = '127.0.0.1' } = options;
  let behaviour = options.behaviour ?? answerOk;
  const received: ReceivedWebhook[] = [];
  const receivedByPath = new Map<string, ReceivedWebhook[]>();
  const waiters = new Set<Waiter>();
  const sockets = new Set<Socket>();
  const stalledAnswers = new Set<NodeJS.Timeout>();
  let closing: Promise<void> | undefined;

  const settleWaiters = (): void => {
    for (const waiter of waiters) {
      const matching = waiter.path === undefined ? received : receivedByPath.get(waiter.path);
      if (matching !== undefined && matching.length >= waiter.count) {
        waiters.delete(waiter);
        clearTimeout(waiter.timer);
        waiter.resolve(matching.slice());
      }
    }
  };

  const summarize = (path: string | undefined): string => {
    const onPath = path === undefined ? received.length : (receivedByPath.get(path)?.length ?? 0);
    const arrived = path === undefined ? `${onPath} arrived` : `${onPath} arrived on ${path}`;
    if (received.length === 0) return `${arrived}; nothing was received at all`;
    const counts = new Map<string, number>();
    for (const request of received) {
      const key = `${request.method} ${request.path}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    const shown = [...counts].slice(0, 20).map(([key, n]) => `${key} ×${n}`);
    const more = counts.size > shown.length ? `, … (${counts.size - shown.length} more paths)` : '';
    return `${arrived}; all ${received.length} received: ${shown.join(', ')}${more}`;
  };

  const answer = (response: ServerResponse, request: ReceivedWebhook, nthForPath: number): void => {
    let decided: ReceiverResponse;
    try {
      decided = behaviour(request, nthForPath);
    } catch (error) {
      decided = { status: 500, body: `webhook receiver behaviour threw: ${describe(error)}` };
    }
    // The sender hung up right after its last body byte: there is nobody left to answer.
    if (response.destroyed) {
      if (closing === undefined) request.clientClosedAt = Date.now();
      return;
    }
    const delayMs = decided.delayMs ?? 0;
    request.answer = { status: decided.status, delaySeconds: delayMs > 0 ? delayMs / 1000 : 0 };
    // One listener and no timer per request, as a benchmark sends thousands a second. 'close' also follows
    // an answer that went out in full (`writableFinished` is then set), and the connections `close()`
    // drops are no sender hanging up.
    const recordHangUp = (): void => {
      if (!response.writableFinished && closing === undefined) request.clientClosedAt = Date.now();
    };
    if (delayMs <= 0) {
      response.once('close', recordHangUp);
      send(response, decided, request);
      return;
    }
    const timer = setTimeout(() => {
      stalledAnswers.delete(timer);
      send(response, decided, request);
    }, delayMs);
    stalledAnswers.add(timer);
    response.once('close', () => {
      clearTimeout(timer);
      stalledAnswers.delete(timer);
      recordHangUp();
    });
  };

  const onRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    // A client that gives up mid-body is no failure of the receiver; its request is simply not recorded.
    request.on('error', ignore);
    request.on('end', () => {
      const path = request.url ?? '';
      const webhook: ReceivedWebhook = {
        method: request.method ?? '',
        path,
        headers: flattenHeaders(request.headers),
        rawBody: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks),
        receivedAt: Date.now(),
      };
      received.push(webhook);
      let onPath = receivedByPath.get(path);
      if (onPath === undefined) receivedByPath.set(path, (onPath = []));
      onPath.push(webhook);
      if (waiters.size > 0) settleWaiters();
      answer(response, webhook, onPath.length);
    });
  };

  // HTTP keep-alive is on by default; `keepAlive` here also keeps idle TCP connections alive.
  const serverOptions: ServerOptions = { keepAlive: true, joinDuplicateHeaders: true };
  const server = tls
    ? createHttpsServer({ ...serverOptions, ...tlsServerCredentials() }, onRequest)
    : createHttpServer(serverOptions, onRequest);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const origin = tls ? `https://localhost:${port}` : `http://${urlHost(host)}:${port}`;

  return {
    origin,
    url: (path) => `${origin}${path.startsWith('/') ? '' : '/'}${path}`,
    get received() {
      return received;
    },
    receivedOn: (path) => receivedByPath.get(path)?.slice() ?? [],
    setBehaviour: (next) => {
      behaviour = next;
    },
    waitForCount: (path, count, timeoutMs = DEFAULT_WAIT_TIMEOUT_MS) => {
      const matching = path === undefined ? received : (receivedByPath.get(path) ?? []);
      if (matching.length >= count) return Promise.resolve(matching.slice());
      if (closing !== undefined) {
        return Promise.reject(new Error(`webhook receiver is closed; ${describeWait(path, count)}`));
      }
      const waiting = new Promise<ReceivedWebhook[]>((resolve, reject) => {
        const waiter: Waiter = {
          path,
          count,
          resolve,
          reject,
          timer: setTimeout(() => {
            waiters.delete(waiter);
            reject(new Error(`${describeWait(path, count)} within ${timeoutMs} ms: ${summarize(path)}`));
          }, timeoutMs),
        };
        waiters.add(waiter);
      });
      // A wait left behind by a test that already failed must not add an unhandled rejection when it
      // times out or the receiver closes; whoever awaits it still gets the rejection.
      waiting.catch(ignore);
      return waiting;
    },
    close: () => {
      closing ??= (async () => {
        for (const timer of stalledAnswers) clearTimeout(timer);
        stalledAnswers.clear();
        for (const waiter of waiters) {
          clearTimeout(waiter.timer);
          waiter.reject(
            new Error(`webhook receiver closed before ${describeWait(waiter.path, waiter.count)}`),
          );
        }
        waiters.clear();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of sockets) socket.destroy();
        await closed;
      })();
      return closing;
    },
  };
}

function describeWait(path: string | undefined, count: number): string {
  return `expected ${count} request(s) ${path === undefined ? 'on any path' : `on ${path}`}`;
}

function tlsServerCredentials(): { cert: string; key: string } {
  const { cert, key } = testTlsCredentials();
  return { cert, key };
}

function send(response: ServerResponse, decided: ReceiverResponse, request: ReceivedWebhook): void {
  if (response.destroyed || response.writableEnded) return;
  try {
    response.writeHead(decided.status, decided.headers);
    response.end(decided.body);
  } catch (error) {
    // A behaviour's unusable answer (an invalid status or header) must show in the test, not crash it.
    if (response.headersSent) {
      response.destroy();
    } else {
      request.answer = { status: 500, delaySeconds: request.answer?.delaySeconds ?? 0 };
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`webhook receiver behaviour gave an unusable response: ${describe(error)}`);
    }
  }
}

function flattenHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value !== undefined) flat[name] = typeof value === 'string' ? value : value.join(', ');
  }
  return flat;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function ignore(): void {}

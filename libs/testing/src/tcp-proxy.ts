import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxyTarget {
  readonly host: string;
  readonly port: number;
}

/**
 * A TCP proxy in front of a server a test cannot stop itself (the machine's PostgreSQL, a
 * shared broker): `cut` makes the server look gone to whoever connects through the proxy.
 */
export interface TcpProxy {
  readonly host: string;
  readonly port: number;
  /** Connections made through the proxy so far (a client that reconnected shows here). */
  readonly connectionsAccepted: number;
  /**
   * Resets every open connection and stops listening, so new connections are refused
   * (ECONNREFUSED), as when the server's host is down.
   */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Starts a proxy that forwards every connection to `target`, on `port` of the loopback interface
 * (a server that appears where a client already waits for it) or on a free one.
 */
export async function startTcpProxy(
  target: TcpProxyTarget,
  options: { port?: number } = {},
): Promise<TcpProxy> {
  const clients = new Set<Socket>();
  const upstreams = new Set<Socket>();
  let accepted = 0;
  let listening = false;

  const server: Server = createServer((client) => {
    accepted += 1;
    const upstream = connect(target.port, target.host);
    clients.add(client);
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
      clients.delete(client);
      upstreams.delete(upstream);
    };
    upstreams.add(upstream);
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);
    client.pipe(upstream);
    upstream.pipe(client);
  });

  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        listening = true;
        resolve();
      });
    });
  const stopListening = async (): Promise<void> => {
    if (!listening) return;
    listening = false;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // `close` waits for open connections to end: resetting them (RST, not FIN) is the point
    // anyway; each one's upstream side is closed with it.
    for (const client of clients) client.resetAndDestroy();
    for (const upstream of upstreams) upstream.destroy();
    clients.clear();
    upstreams.clear();
    await closed;
  };

  await listen(options.port ?? 0);
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');
  const port = address.port;

  return {
    host: '127.0.0.1',
    port,
    get connectionsAccepted() {
      return accepted;
    },
    cut: stopListening,
    restore: () => (listening ? Promise.resolve() : listen(port)),
    close: stopListening,
  };
}

/** The same connection URL with its host and port replaced by the proxy's. */
export function urlThroughProxy(url: string, proxy: Pick<TcpProxy, 'host' | 'port'>): string {
  const parsed = new URL(url);
  parsed.hostname = proxy.host;
  parsed.port = String(proxy.port);
  return parsed.toString();
}

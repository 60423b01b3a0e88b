import { connect, createServer, type Server, type Socket } from 'node:net';
import { startTcpProxy, type TcpProxy, urlThroughProxy } from './tcp-proxy';

function listenEcho(): Promise<Server> {
  const server = createServer((socket) => socket.pipe(socket));
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function connectTo(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function roundTrip(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    socket.once('data', (data) => resolve(data.toString()));
    socket.write(text);
  });
}

describe('TCP proxy for outage tests', () => {
  let echo: Server;
  let proxy: TcpProxy;

  beforeEach(async () => {
    echo = await listenEcho();
    const address = echo.address() as { port: number };
    proxy = await startTcpProxy({ host: '127.0.0.1', port: address.port });
  });

  afterEach(async () => {
    await proxy.close();
    await new Promise((resolve) => echo.close(resolve));
  });

  it('forwards both ways until cut, then resets open connections and refuses new ones until restored', async () => {
    const socket = await connectTo(proxy.port);
    expect(await roundTrip(socket, 'ping')).toBe('ping');

    const closed = new Promise<string | undefined>((resolve) => {
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code));
      socket.once('close', () => resolve(undefined));
    });
    await proxy.cut();
    expect(await closed).toBe('ECONNRESET');
    await expect(connectTo(proxy.port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    await proxy.restore();
    const again = await connectTo(proxy.port);
    expect(await roundTrip(again, 'pong')).toBe('pong');
    again.destroy();
    expect(proxy.connectionsAccepted).toBe(2);
  });

  it('rewrites a connection URL to go through the proxy, credentials and database kept', () => {
    expect(
      urlThroughProxy('postgres://skyhook:secret@db.internal:5432/history', {
        host: '127.0.0.1',
        port: 6543,
      }),
    ).toBe('postgres://skyhook:secret@127.0.0.1:6543/history');
  });
});

import { connect } from 'node:net';
import { type FastifyInstance } from 'fastify';
import { createHttpAdapter } from './run-service';

/** Sends `request` as raw bytes and resolves with everything the server answered before closing. */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' ? resolve(answer) : reject(error),
    );
  });
}

describe('answers given before any route runs', () => {
  let server: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    server = createHttpAdapter().getInstance<FastifyInstance>();
    server.get('/items/:id', () => ({ ok: true }));
    await server.listen({ port: 0, host: '127.0.0.1' });
    port = (server.server.address() as { port: number }).port;
  });

  afterAll(async () => {
    await server.close();
  });

  it('414 for a path segment over the limit, in the error shape, without echoing the path', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/items/${'x'.repeat(5_000)}`);
    expect(response.status).toBe(414);
    const text = await response.text();
    expect(JSON.parse(text)).toEqual({
      error: { code: 'URI_TOO_LONG', message: expect.any(String) as string, details: {} },
    });
    expect(text).not.toContain('xxxxxxxxxx');
  });

  it('400 for a malformed percent-encoding, in the error shape', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/items/%E0%A4%A`);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED', details: {} } });
  });

  it('431 for headers larger than Node accepts, in the error shape, then the connection closes', async () => {
    const answer = await rawExchange(
      port,
      `GET /items/1 HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
    expect(JSON.parse(body)).toEqual({
      error: { code: 'HEADERS_TOO_LARGE', message: expect.any(String) as string, details: {} },
    });
  });

  it('400 for bytes that are not HTTP, in the error shape', async () => {
    const answer = await rawExchange(port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toMatchObject({
      error: { code: 'BAD_REQUEST' },
    });
  });

  it('still answers routes as before', async () => {
    const response = await fetch(`http://127.0.0.1:${port}/items/1`);
    expect(await response.json()).toEqual({ ok: true });
  });
});

import { connect } from 'node:net';
import { createHttpAdapter } from './run-service';

/** Writes a whole request before reading anything, as Python's urllib does; resolves with what came back. */
function postWholeThenRead(port: number, bodyBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    const head =
      `POST /things HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${bodyBytes}\r\nConnection: close\r\n\r\n`;
    socket.write(head);
    socket.write(Buffer.alloc(bodyBytes, 'a'), (error) => {
      if (error !== undefined && error !== null) reject(error);
    });
  });
}

describe('a body over the limit', () => {
  it('is answered 413 to a client that writes all of it before reading, not with a broken pipe', async () => {
    const fastify = createHttpAdapter(1_048_576).getInstance();
    fastify.post('/things', () => ({ ok: true }));
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    try {
      const address = fastify.server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      const answer = await postWholeThenRead(port, 8 * 1_048_576);
      expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 413 Payload Too Large');
    } finally {
      await fastify.close();
    }
  });
});

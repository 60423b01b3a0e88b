import { STATUS_CODES } from 'node:http';
import { type Socket } from 'node:net';
import { type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';

/**
 * The answers Fastify and Node's HTTP parser give before any route runs (a path segment over the
 * router's limit, a malformed URL, headers too large, a request too slow), in the shape every
 * other error has: `{"error": {"code", "message", "details"}}`. Fastify's own bodies echo the
 * whole path back (5,000 characters of it, for a long one) and use another shape.
 */
const errorBody = (code: string, message: string): string =>
  JSON.stringify({ error: { code, message, details: {} } });

/** Fastify's `frameworkErrors`: routing failures, answered without echoing the path. */
export function answerFrameworkError(
  error: FastifyError,
  _request: FastifyRequest,
  reply: FastifyReply,
): void {
  const [status, body] =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? [
          414,
          errorBody('URI_TOO_LONG', 'a segment of the request path is too long (more than 100 characters)'),
        ]
      : error.code === 'FST_ERR_BAD_URL'
        ? [
            400,
            errorBody(
              'VALIDATION_FAILED',
              'the request path is not a valid URL (malformed percent-encoding)',
            ),
          ]
        : [400, errorBody('BAD_REQUEST', 'the request could not be routed')];
  void reply.code(status).header('content-type', 'application/json').send(body);
}

const CLIENT_ERRORS: Readonly<Record<string, readonly [number, string, string]>> = {
  HPE_HEADER_OVERFLOW: [
    431,
    'HEADERS_TOO_LARGE',
    'the request headers are larger than the server accepts (16 KiB)',
  ],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'REQUEST_TIMEOUT', 'the request did not arrive in time'],
};

/** Node's `clientError` (a request the HTTP parser refused): an answer in the same shape, then close. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, code, message] = CLIENT_ERRORS[error.code ?? ''] ?? [
    400,
    'BAD_REQUEST',
    'the request is not valid HTTP',
  ];
  const body = errorBody(code, message);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(error);
}

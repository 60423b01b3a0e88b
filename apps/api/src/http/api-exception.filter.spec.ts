import { type ArgumentsHost, NotFoundException, ServiceUnavailableException } from '@nestjs/common';
import { KafkaJSConnectionError } from 'kafkajs';
import pino from 'pino';
import { QueryFailedError } from 'typeorm';
import { KafkaSendFailedError } from '@skyhook/messaging';
import { SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { UrlPolicyViolation, UrlPolicyViolationCode } from '@skyhook/url-policy';
import { ApiError, ApiErrorCode } from './api-error';
import { ApiExceptionFilter } from './api-exception.filter';

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: { error: { code: string; message: string; details: unknown } };
}

function answerTo(exception: unknown): Answer {
  const sent: { status: number; headers: Record<string, string>; body: unknown } = {
    status: 0,
    headers: {},
    body: undefined,
  };
  const reply = {
    status(code: number) {
      sent.status = code;
      return this;
    },
    header(name: string, value: string) {
      sent.headers[name] = value;
      return this;
    },
    send(body: unknown) {
      sent.body = body;
      return this;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => reply }) } as unknown as ArgumentsHost;
  new ApiExceptionFilter(pino({ level: 'silent' })).catch(exception, host);
  return sent as Answer;
}

function withCode(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('ApiExceptionFilter', () => {
  it('answers 503 KAFKA_UNAVAILABLE with Retry-After, saying nothing was recorded, when the broker is unreachable', () => {
    const answer = answerTo(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'));
    expect(answer.status).toBe(503);
    expect(answer.headers['retry-after']).toBe('1');
    expect(answer.body.error.code).toBe('KAFKA_UNAVAILABLE');
    expect(answer.body.error.message).toContain('nothing was recorded');
  });

  it('answers 503 KAFKA_UNAVAILABLE to a send whose outcome is unknown (a replaced producer), not 500', () => {
    const failed = new KafkaSendFailedError('contract', { cause: new Error('Connection closed') });
    const answer = answerTo(failed);
    expect([answer.status, answer.headers['retry-after'], answer.body.error.code]).toEqual([
      503,
      '1',
      'KAFKA_UNAVAILABLE',
    ]);
  });

  it('answers a publish that timed out on Kafka with 503 and Retry-After', () => {
    const answer = answerTo(new ApiError(ApiErrorCode.KafkaUnavailable, 'no acknowledgement within 5000 ms'));
    expect([answer.status, answer.headers['retry-after'], answer.body.error.code]).toEqual([
      503,
      '1',
      'KAFKA_UNAVAILABLE',
    ]);
  });

  it.each([
    ['a refused connection', withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED')],
    ['the pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['a connection lost mid-query', new Error('Connection terminated unexpectedly')],
    [
      '57P01 admin shutdown (wrapped by TypeORM)',
      new QueryFailedError(
        'SELECT 1',
        [],
        withCode('terminating connection due to administrator command', '57P01'),
      ),
    ],
    ['57P03 cannot connect now', withCode('the database system is starting up', '57P03')],
    ['08006 connection failure', withCode('server closed the connection', '08006')],
  ])('answers 503 DATABASE_UNAVAILABLE with Retry-After to %s, without the driver message', (_, error) => {
    const answer = answerTo(error);
    expect(answer).toEqual({
      status: 503,
      headers: { 'retry-after': '2' },
      body: {
        error: {
          code: 'DATABASE_UNAVAILABLE',
          message: 'the database is unavailable; retry later',
          details: {},
        },
      },
    });
  });

  it('answers 500 to a statement the database refused: a bug, not an outage', () => {
    const answer = answerTo(
      new QueryFailedError(
        'INSERT …',
        [],
        withCode('duplicate key value violates unique constraint', '23505'),
      ),
    );
    expect(answer).toEqual({
      status: 500,
      headers: {},
      body: { error: { code: 'INTERNAL', message: 'internal error', details: {} } },
    });
  });

  it("answers a failed readiness check with 503 and terminus' report naming what is down", () => {
    const report = {
      status: 'error',
      info: { kafka: { status: 'up' } },
      error: { postgres: { status: 'down', reason: 'connect ECONNREFUSED 127.0.0.1:5432' } },
      details: {
        kafka: { status: 'up' },
        postgres: { status: 'down', reason: 'connect ECONNREFUSED 127.0.0.1:5432' },
      },
    };
    const answer = answerTo(new ServiceUnavailableException(report));
    expect(answer.status).toBe(503);
    expect(answer.body).toEqual(report);
  });

  it('maps domain errors to their status with the domain code', () => {
    expect(answerTo(new SubscriptionError(SubscriptionErrorCode.RenewalNotOpen, 'not yet')).status).toBe(409);
    const url = answerTo(new UrlPolicyViolation(UrlPolicyViolationCode.AddressNotAllowed, 'private address'));
    expect([url.status, url.body.error.code]).toEqual([400, 'ADDRESS_NOT_ALLOWED']);
    expect(answerTo(new NotFoundException()).status).toBe(404);
  });

  it('never leaks the message of an unexpected error', () => {
    const answer = answerTo(new Error('password=hunter2 in a stack'));
    expect(answer).toEqual({
      status: 500,
      headers: {},
      body: { error: { code: 'INTERNAL', message: 'internal error', details: {} } },
    });
  });
});

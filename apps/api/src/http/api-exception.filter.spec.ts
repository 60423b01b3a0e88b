import { type ArgumentsHost, NotFoundException } from '@nestjs/common';
import { KafkaJSConnectionError } from 'kafkajs';
import pino from 'pino';
import { SubscriptionError, SubscriptionErrorCode } from '@skyhook/subscriptions';
import { UrlPolicyViolation, UrlPolicyViolationCode } from '@skyhook/url-policy';
import { ApiExceptionFilter } from './api-exception.filter';

function answerTo(exception: unknown): {
  status: number;
  body: { error: { code: string; message: string } };
} {
  const sent: { status: number; body: unknown } = { status: 0, body: undefined };
  const reply = {
    status(code: number) {
      sent.status = code;
      return this;
    },
    send(body: unknown) {
      sent.body = body;
      return this;
    },
  };
  const host = { switchToHttp: () => ({ getResponse: () => reply }) } as unknown as ArgumentsHost;
  new ApiExceptionFilter(pino({ level: 'silent' })).catch(exception, host);
  return sent as { status: number; body: { error: { code: string; message: string } } };
}

describe('ApiExceptionFilter', () => {
  it('answers 503, saying nothing was recorded, when the broker is unreachable', () => {
    const answer = answerTo(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'));
    expect(answer.status).toBe(503);
    expect(answer.body.error.code).toBe('SERVICE_UNAVAILABLE');
    expect(answer.body.error.message).toContain('nothing was recorded');
  });

  it('maps domain errors to their status with the domain code', () => {
    expect(answerTo(new SubscriptionError(SubscriptionErrorCode.RenewalNotOpen, 'not yet')).status).toBe(409);
    const url = answerTo(new UrlPolicyViolation(UrlPolicyViolationCode.AddressNotAllowed, 'private address'));
    expect([url.status, url.body.error.code]).toEqual([400, 'ADDRESS_NOT_ALLOWED']);
    expect(answerTo(new NotFoundException()).status).toBe(404);
  });

  it('never leaks the message of an unexpected error', () => {
    const answer = answerTo(new Error('password=hunter2 in a stack'));
    expect(answer).toEqual({ status: 500, body: { error: { code: 'INTERNAL', message: 'internal error' } } });
  });
});

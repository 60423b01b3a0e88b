import {
  DeliveryPolicyError,
  DeliveryPolicyErrorCode,
  type DeliveryPolicyIssue,
} from './delivery-policy.error';
import { parseDeliveryPolicyOverride } from './delivery-policy-override';

function rejectionOf(input: unknown): {
  code: DeliveryPolicyErrorCode;
  issues: readonly DeliveryPolicyIssue[];
} {
  try {
    parseDeliveryPolicyOverride(input);
  } catch (error: unknown) {
    if (error instanceof DeliveryPolicyError) {
      return { code: error.code, issues: error.issues };
    }
    throw error;
  }
  throw new Error('expected the override to be rejected');
}

function rejectedPaths(input: unknown): string[] {
  return rejectionOf(input).issues.map((issue) => issue.path);
}

describe('parseDeliveryPolicyOverride', () => {
  it('accepts an empty override: every knob inherits', () => {
    expect(parseDeliveryPolicyOverride({})).toEqual({});
  });

  it('accepts each signature scheme with its header', () => {
    for (const signature of [
      { scheme: 'standard-webhooks' },
      { scheme: 'timestamped-hmac-hex', header: 'X-Flightline-Signature' },
      { scheme: 'hmac-hex', header: 'X-Flexorch-Signature' },
      { scheme: 'hmac-base64', header: 'X-Signature-Primary' },
    ]) {
      expect(parseDeliveryPolicyOverride({ signature })).toEqual({ signature });
    }
  });

  it('an override that switches to hmac-hex without a header name is rejected naming signature.header', () => {
    const rejection = rejectionOf({ signature: { scheme: 'hmac-hex' } });
    expect(rejection.code).toBe(DeliveryPolicyErrorCode.InvalidOverride);
    expect(rejection.issues).toEqual([{ path: 'signature.header', message: 'a header name is required' }]);
  });

  it('rejects a header name for Standard Webhooks, whose header names are fixed', () => {
    expect(rejectedPaths({ signature: { scheme: 'standard-webhooks', header: 'X-Sig' } })).toEqual([
      'signature',
    ]);
  });

  it('rejects an unknown signature scheme naming signature.scheme', () => {
    expect(rejectedPaths({ signature: { scheme: 'rsa', header: 'X-Sig' } })).toEqual(['signature.scheme']);
  });

  it('a timeout of 31 s is rejected', () => {
    expect(rejectionOf({ timeoutMs: 31_000 }).issues).toEqual([
      { path: 'timeoutMs', message: 'must be at most 30000 ms' },
    ]);
  });

  it.each([1_000, 5_000, 10_000, 30_000])('accepts a timeout of %i ms', (timeoutMs) => {
    expect(parseDeliveryPolicyOverride({ timeoutMs })).toEqual({ timeoutMs });
  });

  it.each([999, 1_500.5, '5000'])('rejects a timeout of %p', (timeoutMs) => {
    expect(rejectedPaths({ timeoutMs })).toEqual(['timeoutMs']);
  });

  it.each([
    'Host',
    'content-length',
    'Content-Type',
    'Transfer-Encoding',
    'Connection',
    'User-Agent',
    'Authorization',
    'webhook-signature',
    'Proxy-Foo',
    'Sec-Fetch-Mode',
  ])('a reserved header name (%s) is rejected', (name) => {
    const rejection = rejectionOf({ signature: { scheme: 'hmac-hex', header: name } });
    expect(rejection.issues).toEqual([
      { path: 'signature.header', message: `${name} is reserved and cannot be set by a delivery policy` },
    ]);
  });

  it.each(['X Signature', 'X-Signature:', 'X-Sig\r\nInjected: 1', '', 'X-'.padEnd(65, 'a')])(
    'a header name that is not an HTTP token of at most 64 characters (%p) is rejected',
    (name) => {
      expect(rejectedPaths({ headers: { eventType: name } })).toEqual(['headers.eventType']);
    },
  );

  it('rejects reserved and malformed extra header names by name, and values with line breaks', () => {
    expect(
      rejectedPaths({
        headers: {
          extra: { 'X-Fine': 'ok', Cookie: 'a=b', 'X-Bad Name': 'v', 'X-Injected': 'v\r\nHost: evil' },
        },
      }).sort(),
    ).toEqual(['headers.extra.Cookie', 'headers.extra.X-Bad Name', 'headers.extra.X-Injected']);
  });

  it('bounds the number and size of extra headers', () => {
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, index) => [`X-Extra-${index}`, 'v']));
    expect(rejectedPaths({ headers: { extra: eleven } })).toEqual(['headers.extra']);
    expect(rejectedPaths({ headers: { extra: { 'X-Long': 'v'.repeat(257) } } })).toEqual([
      'headers.extra.X-Long',
    ]);
  });

  it('rejects two names for one header, compared case-insensitively', () => {
    expect(
      rejectionOf({
        signature: { scheme: 'hmac-hex', header: 'X-AviationAlley-Signature' },
        headers: { eventType: 'x-aviationalley-signature', extra: { 'X-A': '1', 'x-a': '2' } },
      }).issues,
    ).toEqual(
      expect.arrayContaining([
        { path: 'headers.extra.x-a', message: 'x-a is given twice (header names are case-insensitive)' },
        {
          path: 'headers.eventType',
          message: 'x-aviationalley-signature is already used by signature.header',
        },
      ]),
    );
  });

  it('accepts null to turn an inherited event type or delivery id header off', () => {
    expect(parseDeliveryPolicyOverride({ headers: { eventType: null, deliveryId: null } })).toEqual({
      headers: { eventType: null, deliveryId: null },
    });
  });

  it('accepts an empty schedule (a single attempt) and a zero delay (retry at once)', () => {
    expect(parseDeliveryPolicyOverride({ retry: { delaysMs: [] } })).toEqual({ retry: { delaysMs: [] } });
    expect(parseDeliveryPolicyOverride({ retry: { delaysMs: [0, 300_000] } })).toEqual({
      retry: { delaysMs: [0, 300_000] },
    });
  });

  it('rejects more than 10 retries, a negative delay and a delay over 7 days, naming each', () => {
    expect(rejectedPaths({ retry: { delaysMs: Array.from({ length: 11 }, () => 1_000) } })).toEqual([
      'retry.delaysMs',
    ]);
    expect(rejectedPaths({ retry: { delaysMs: [1_000, -1, 7 * 86_400_000 + 1] } })).toEqual([
      'retry.delaysMs[1]',
      'retry.delaysMs[2]',
    ]);
  });

  it('rejects an unknown retryOn and a breaker threshold outside 1–100', () => {
    expect(rejectedPaths({ retry: { retryOn: 'sometimes' } })).toEqual(['retry.retryOn']);
    expect(rejectedPaths({ circuitBreaker: { consecutiveFailuresToDisable: 0 } })).toEqual([
      'circuitBreaker.consecutiveFailuresToDisable',
    ]);
    expect(rejectedPaths({ circuitBreaker: { consecutiveFailuresToDisable: 101 } })).toEqual([
      'circuitBreaker.consecutiveFailuresToDisable',
    ]);
  });

  it('rejects an unknown payload shape and an unknown whileDisabled', () => {
    expect(rejectedPaths({ payload: { shape: 'xml' } })).toEqual(['payload.shape']);
    expect(rejectedPaths({ payload: { shape: 'template' } })).toEqual(['payload.template']);
    expect(rejectedPaths({ whileDisabled: 'queue' })).toEqual(['whileDisabled']);
  });

  it('rejects a misspelt knob instead of ignoring it', () => {
    expect(rejectionOf({ timeoutMS: 5_000 }).issues).toEqual([
      { path: '(policy)', message: 'Unrecognized key: "timeoutMS"' },
    ]);
    expect(rejectedPaths({ retry: { delays: [1_000] } })).toEqual(['retry']);
  });

  it('rejects input that is not an object', () => {
    for (const input of [null, undefined, 'standard-webhooks', [], 42]) {
      expect(rejectionOf(input).code).toBe(DeliveryPolicyErrorCode.InvalidOverride);
    }
  });

  it('reports every issue at once, in a message that names each path', () => {
    const error = (() => {
      try {
        parseDeliveryPolicyOverride({ timeoutMs: 0, signature: { scheme: 'hmac-base64' } });
      } catch (caught: unknown) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(DeliveryPolicyError);
    expect((error as DeliveryPolicyError).issues).toHaveLength(2);
    expect((error as DeliveryPolicyError).message).toMatch(
      /signature\.header: .*timeoutMs: |timeoutMs: .*signature\.header: /,
    );
  });
});

import { randomBytes } from 'node:crypto';
import { type SubscriptionEvent } from '@skyhook/contracts';
import { type ServiceLogger } from '@skyhook/observability';
import { generateSigningSecret, secretCipherFromEnvironment } from '@skyhook/secrets';
import { type DispatcherConfig } from './dispatcher.config';
import { EndpointDirectory, isUnusable, type UnusableEndpoint } from './endpoint-directory';

const cipher = secretCipherFromEnvironment({ SECRETS_MASTER_KEY: randomBytes(32).toString('base64') });
const otherCipher = secretCipherFromEnvironment({ SECRETS_MASTER_KEY: randomBytes(32).toString('base64') });
const logged: string[] = [];
const logger = { error: (_: unknown, message: string) => logged.push(message) } as unknown as ServiceLogger;
const now = Date.parse('2026-12-01T10:00:00.000Z');

function directoryWith(
  subscriptionId: string,
  fields: { url?: string; policy?: Record<string, unknown>; encrypted?: string | null },
): EndpointDirectory {
  const directory = new EndpointDirectory({ secretCipher: cipher } as DispatcherConfig, logger);
  const encrypted =
    fields.encrypted === undefined
      ? cipher.encrypt(generateSigningSecret(), `${subscriptionId}:sec_1`)
      : fields.encrypted;
  const event: SubscriptionEvent = {
    type: 'SubscriptionCreated',
    subscriptionId,
    organisationId: 'org_1',
    version: 1,
    occurredAt: '2026-12-01T09:00:00.000Z',
    fields: {
      url: fields.url ?? 'https://hooks.example.com/in',
      description: '',
      eventTypes: ['*'],
      scopeFilter: {},
      policy: fields.policy ?? {},
    },
    secrets:
      encrypted === null
        ? []
        : [
            {
              id: 'sec_1',
              encrypted,
              hint: 'whsec_…',
              createdAt: '2026-12-01T09:00:00.000Z',
              retiresAt: null,
            },
          ],
    expiresAt: null,
  };
  directory.applySubscriptionEvent(event);
  return directory;
}

function unusable(directory: EndpointDirectory, subscriptionId: string): UnusableEndpoint | undefined {
  const endpoint = directory.endpoint(subscriptionId, now);
  return endpoint !== undefined && isUnusable(endpoint) ? endpoint : undefined;
}

describe('EndpointDirectory: endpoints that cannot be compiled', () => {
  beforeEach(() => {
    logged.length = 0;
  });

  it('compiles a valid subscription', () => {
    const endpoint = directoryWith('sub_ok', {}).endpoint('sub_ok', now);
    expect(endpoint).toBeDefined();
    expect(isUnusable(endpoint!)).toBe(false);
  });

  it('explains a policy the api would refuse, and logs it once however often it is asked', () => {
    const directory = directoryWith('sub_policy', { policy: { timeoutMs: 999_999 } });
    expect(unusable(directory, 'sub_policy')).toMatchObject({
      code: 'INVALID_DELIVERY_POLICY_OVERRIDE',
      reason: expect.stringContaining('timeoutMs') as string,
    });
    directory.endpoint('sub_policy', now);
    expect(logged).toHaveLength(1);
  });

  it('explains a payload template that does not compile', () => {
    const directory = directoryWith('sub_template', {
      policy: { payload: { shape: 'template', template: { id: { $ref: 'no-leading-slash' } } } },
    });
    expect(unusable(directory, 'sub_template')?.code).toBe('INVALID_DELIVERY_POLICY_OVERRIDE');
  });

  it('explains a URL that does not parse or is not http(s)', () => {
    expect(unusable(directoryWith('sub_url', { url: 'not a url' }), 'sub_url')?.code).toBe('INVALID_URL');
    expect(unusable(directoryWith('sub_ftp', { url: 'ftp://example.com/x' }), 'sub_ftp')?.reason).toContain(
      'ftp:',
    );
  });

  it('explains a subscription without a signing secret, or with one that is not a ciphertext', () => {
    expect(unusable(directoryWith('sub_none', { encrypted: null }), 'sub_none')?.code).toBe(
      'NO_SIGNING_SECRET',
    );
    expect(unusable(directoryWith('sub_garbled', { encrypted: 'v1.x' }), 'sub_garbled')?.code).toBe(
      'MALFORMED_CIPHERTEXT',
    );
  });

  it('lets a secret under a master key this process lacks fail, to be retried once the key is configured', () => {
    const encrypted = otherCipher.encrypt(generateSigningSecret(), 'sub_key:sec_1');
    const directory = directoryWith('sub_key', { encrypted });
    expect(() => directory.endpoint('sub_key', now)).toThrow(/master key/i);
  });
});

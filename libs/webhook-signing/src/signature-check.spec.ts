import { type SignaturePolicy } from '@skyhook/delivery-policy';
import { generateSigningKeyPair, generateSigningSecret } from '@skyhook/secrets';
import { checkWebhookSignature } from './signature-check';
import { compileSigner } from './webhook-signer';

const NOW = 1_767_225_600;
const BODY = Buffer.from('{"type":"booking.created","data":{"bookingId":"bk_1"}}');

const SCHEMES: readonly SignaturePolicy[] = [
  { scheme: 'standard-webhooks' },
  { scheme: 'timestamped-hmac-hex', header: 'X-Flightline-Signature' },
  { scheme: 'hmac-hex', header: 'X-Signature' },
  { scheme: 'hmac-base64', header: 'X-Hub-Signature' },
];

function secretFor(signature: SignaturePolicy): string {
  return signature.scheme === 'standard-webhooks'
    ? generateSigningSecret()
    : 'partner-chosen-secret-0123456789';
}

describe('checkWebhookSignature, against what compileSigner signs', () => {
  it.each(SCHEMES)('verifies a genuine $scheme webhook, check by check', (signature) => {
    const secret = secretFor(signature);
    const headers = compileSigner(signature, [secret]).sign('msg_1', NOW - 10, BODY);
    const result = checkWebhookSignature({ signature, secret, headers, body: BODY, nowSeconds: NOW });
    expect(result.verified).toBe(true);
    expect(result.steps.every((step) => step.passed)).toBe(true);
    expect(result.steps.at(-1)?.check).toBe('signature');
  });

  it.each(SCHEMES)(
    'names the failing step for $scheme: another secret, an altered body, a missing header',
    (signature) => {
      const secret = secretFor(signature);
      const headers = compileSigner(signature, [secret]).sign('msg_1', NOW, BODY);
      const wrongSecret = checkWebhookSignature({
        signature,
        secret: secretFor(signature).replace(/.$/, 'A'),
        headers,
        body: BODY,
        nowSeconds: NOW,
      });
      expect(wrongSecret.verified).toBe(false);
      expect(wrongSecret.steps.at(-1)).toMatchObject({ check: 'signature', passed: false });

      const altered = checkWebhookSignature({
        signature,
        secret,
        headers,
        body: Buffer.from(BODY.toString().replace('bk_1', 'bk_2')),
        nowSeconds: NOW,
      });
      expect(altered.steps.at(-1)).toMatchObject({ check: 'signature', passed: false });
      expect(altered.steps.at(-1)?.detail).toContain('bytes as received');

      const withoutHeaders = checkWebhookSignature({
        signature,
        secret,
        headers: {},
        body: BODY,
        nowSeconds: NOW,
      });
      expect(withoutHeaders.steps.at(-1)).toMatchObject({ check: 'headers', passed: false });
    },
  );

  it('refuses a timestamp older than the tolerance, and reads header names in any case', () => {
    const signature: SignaturePolicy = { scheme: 'standard-webhooks' };
    const secret = generateSigningSecret();
    const headers = compileSigner(signature, [secret]).sign('msg_1', NOW - 301, BODY);
    const stale = checkWebhookSignature({ signature, secret, headers, body: BODY, nowSeconds: NOW });
    expect(stale.steps.at(-1)).toMatchObject({ check: 'timestamp', passed: false });
    expect(stale.steps.at(-1)?.detail).toContain('301 s old');

    const fresh = compileSigner(signature, [secret]).sign('msg_2', NOW, BODY);
    const shouted = Object.fromEntries(
      Object.entries(fresh).map(([name, value]) => [name.toUpperCase(), value]),
    );
    expect(
      checkWebhookSignature({ signature, secret, headers: shouted, body: BODY, nowSeconds: NOW }).verified,
    ).toBe(true);
  });

  it('verifies with either secret while a rotation signs with both, and says when a whsec_ secret is not base64', () => {
    const signature: SignaturePolicy = { scheme: 'standard-webhooks' };
    const [current, retiring] = [generateSigningSecret(), generateSigningSecret()];
    const headers = compileSigner(signature, [current, retiring]).sign('msg_1', NOW, BODY);
    for (const secret of [current, retiring]) {
      expect(
        checkWebhookSignature({ signature, secret, headers, body: BODY, nowSeconds: NOW }).verified,
      ).toBe(true);
    }
    const malformed = checkWebhookSignature({
      signature,
      secret: 'whsec_***',
      headers,
      body: BODY,
      nowSeconds: NOW,
    });
    expect(malformed.steps).toEqual([
      {
        check: 'secret',
        passed: false,
        detail: 'signing secret starts with whsec_ but the rest is not base64',
      },
    ]);
  });

  it('verifies v1a with the whpk_ public key, names a wrong key, and refuses a whsk_ key offered as the secret', () => {
    const signature = { scheme: 'standard-webhooks-v1a' } as const;
    const pair = generateSigningKeyPair();
    const headers = compileSigner(signature, [pair.signingKey]).sign('msg_1', NOW - 10, BODY);
    const genuine = checkWebhookSignature({
      signature,
      secret: pair.publicKey,
      headers,
      body: BODY,
      nowSeconds: NOW,
    });
    expect(genuine.verified).toBe(true);
    expect(genuine.steps.map((step) => step.check)).toEqual(['secret', 'headers', 'timestamp', 'signature']);

    const otherKey = checkWebhookSignature({
      signature,
      secret: generateSigningKeyPair().publicKey,
      headers,
      body: BODY,
      nowSeconds: NOW,
    });
    expect(otherKey.verified).toBe(false);
    expect(otherKey.steps.at(-1)?.detail).toContain('none of the 1 v1a signature(s) verifies');

    const altered = checkWebhookSignature({
      signature,
      secret: pair.publicKey,
      headers,
      body: Buffer.from(BODY.toString().replace('bk_1', 'bk_2')),
      nowSeconds: NOW,
    });
    expect(altered.verified).toBe(false);

    const privateKeyOffered = checkWebhookSignature({
      signature,
      secret: pair.signingKey,
      headers,
      body: BODY,
      nowSeconds: NOW,
    });
    expect(privateKeyOffered.steps).toEqual([
      { check: 'secret', passed: false, detail: expect.stringContaining('whpk_ public key') as string },
    ]);

    // A shared secret under the same scheme finds no v1 signature to match.
    const sharedSecret = checkWebhookSignature({
      signature,
      secret: generateSigningSecret(),
      headers,
      body: BODY,
      nowSeconds: NOW,
    });
    expect(sharedSecret.verified).toBe(false);
    expect(sharedSecret.steps.at(-1)?.detail).toContain('no signature in the header');
  });
});

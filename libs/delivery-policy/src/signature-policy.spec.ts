import { SIGNATURE_SCHEME_TRAITS, signatureHeaderNames } from './signature-policy';

describe('signature schemes', () => {
  it('Standard Webhooks occupies its three fixed headers', () => {
    expect(signatureHeaderNames({ scheme: 'standard-webhooks' })).toEqual([
      'webhook-id',
      'webhook-timestamp',
      'webhook-signature',
    ]);
  });

  it('the other schemes occupy their configured header', () => {
    expect(signatureHeaderNames({ scheme: 'hmac-hex', header: 'X-Flexorch-Signature' })).toEqual([
      'X-Flexorch-Signature',
    ]);
  });

  it('only Standard Webhooks base64-decodes whsec_ secrets; the seed schemes key the HMAC with the literal secret', () => {
    expect(SIGNATURE_SCHEME_TRAITS['standard-webhooks'].hmacKeyEncoding).toBe('standard-webhooks');
    expect(SIGNATURE_SCHEME_TRAITS['timestamped-hmac-hex'].hmacKeyEncoding).toBe('raw');
    expect(SIGNATURE_SCHEME_TRAITS['hmac-hex'].hmacKeyEncoding).toBe('raw');
    expect(SIGNATURE_SCHEME_TRAITS['hmac-base64'].hmacKeyEncoding).toBe('raw');
  });

  it('only schemes with a structured header can carry old and new signatures during a rotation', () => {
    expect(SIGNATURE_SCHEME_TRAITS['standard-webhooks'].carriesSeveralSignatures).toBe(true);
    expect(SIGNATURE_SCHEME_TRAITS['timestamped-hmac-hex'].carriesSeveralSignatures).toBe(true);
    expect(SIGNATURE_SCHEME_TRAITS['hmac-hex'].carriesSeveralSignatures).toBe(false);
    expect(SIGNATURE_SCHEME_TRAITS['hmac-base64'].carriesSeveralSignatures).toBe(false);
  });
});

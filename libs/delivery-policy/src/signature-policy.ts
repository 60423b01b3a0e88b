import { z } from 'zod';
import { headerNameSchema } from './header-name';

/**
 * Standard Webhooks fixes its header names: its verifier libraries look up exactly these, so
 * they are not configurable. A receiver wanting other names is served by one of the other
 * schemes.
 */
export const STANDARD_WEBHOOKS_HEADERS = {
  id: 'webhook-id',
  timestamp: 'webhook-timestamp',
  signature: 'webhook-signature',
} as const;

/** `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`. The default. */
export const standardWebhooksSignatureSchema = z.strictObject({
  scheme: z.literal('standard-webhooks'),
});

/**
 * Standard Webhooks' asymmetric signatures: `webhook-signature: v1a,<base64 ed25519 signature of
 * "<id>.<timestamp>.<body>">`. The subscription's secrets are ed25519 key pairs (`whsk_` kept by
 * Skyhook, `whpk_` given to the partner), so whoever verifies cannot sign.
 */
export const standardWebhooksV1aSignatureSchema = z.strictObject({
  scheme: z.literal('standard-webhooks-v1a'),
});

/** `<header>: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` (Flightline). */
export const timestampedHmacHexSignatureSchema = z.strictObject({
  scheme: z.literal('timestamped-hmac-hex'),
  header: headerNameSchema,
});

/** `<header>: <hex HMAC-SHA256 of the raw body>` (FlexOrch, AviationAlley). */
export const hmacHexSignatureSchema = z.strictObject({
  scheme: z.literal('hmac-hex'),
  header: headerNameSchema,
});

/** `<header>: <base64 HMAC-SHA256 of the raw body>` (Flintn). */
export const hmacBase64SignatureSchema = z.strictObject({
  scheme: z.literal('hmac-base64'),
  header: headerNameSchema,
});

export const signaturePolicySchema = z.discriminatedUnion('scheme', [
  standardWebhooksSignatureSchema,
  standardWebhooksV1aSignatureSchema,
  timestampedHmacHexSignatureSchema,
  hmacHexSignatureSchema,
  hmacBase64SignatureSchema,
]);

export type SignaturePolicy = z.infer<typeof signaturePolicySchema>;
export type SignatureScheme = SignaturePolicy['scheme'];

/** What a signer needs to know about a scheme besides its header names. */
export interface SignatureSchemeTraits {
  /**
   * How the secret string becomes the HMAC key; pass to `hmacKeyFor` from `@skyhook/secrets`.
   * Only Standard Webhooks base64-decodes `whsec_` secrets; every other scheme's seed verifier
   * keys the HMAC with the literal secret string.
   */
  readonly hmacKeyEncoding: 'standard-webhooks' | 'raw';
  readonly digestEncoding: 'base64' | 'hex';
  readonly signedContent: 'id.timestamp.body' | 'timestamp.body' | 'body';
  /**
   * Whether one header can carry several signatures, so the old and new secret can both sign
   * during a rotation grace period (`v1,a v1,b`; `t=…,v1=a,v1=b`). A bare digest cannot.
   */
  readonly carriesSeveralSignatures: boolean;
  /**
   * What the scheme's new secrets are: HMAC secrets (`whsec_…`), or ed25519 key pairs
   * (`whsk_…`/`whpk_…`). The two Standard Webhooks schemes sign with either kind (`v1` or `v1a`,
   * per secret), so a rotation moves a subscription from one to the other with both signatures
   * sent during the grace period.
   */
  readonly newSecrets: 'hmac' | 'ed25519';
}

export const SIGNATURE_SCHEME_TRAITS: Readonly<Record<SignatureScheme, SignatureSchemeTraits>> = {
  'standard-webhooks': {
    hmacKeyEncoding: 'standard-webhooks',
    digestEncoding: 'base64',
    signedContent: 'id.timestamp.body',
    carriesSeveralSignatures: true,
    newSecrets: 'hmac',
  },
  'standard-webhooks-v1a': {
    hmacKeyEncoding: 'standard-webhooks',
    digestEncoding: 'base64',
    signedContent: 'id.timestamp.body',
    carriesSeveralSignatures: true,
    newSecrets: 'ed25519',
  },
  'timestamped-hmac-hex': {
    hmacKeyEncoding: 'raw',
    digestEncoding: 'hex',
    signedContent: 'timestamp.body',
    carriesSeveralSignatures: true,
    newSecrets: 'hmac',
  },
  'hmac-hex': {
    hmacKeyEncoding: 'raw',
    digestEncoding: 'hex',
    signedContent: 'body',
    carriesSeveralSignatures: false,
    newSecrets: 'hmac',
  },
  'hmac-base64': {
    hmacKeyEncoding: 'raw',
    digestEncoding: 'base64',
    signedContent: 'body',
    carriesSeveralSignatures: false,
    newSecrets: 'hmac',
  },
};

export type StandardWebhooksSignaturePolicy = Extract<
  SignaturePolicy,
  { scheme: 'standard-webhooks' | 'standard-webhooks-v1a' }
>;

/** Whether the signature is one of Standard Webhooks' (fixed `webhook-*` headers, `v1`/`v1a` signatures). */
export function isStandardWebhooksScheme(
  signature: SignaturePolicy,
): signature is StandardWebhooksSignaturePolicy {
  return signature.scheme === 'standard-webhooks' || signature.scheme === 'standard-webhooks-v1a';
}

/** The header names a signature occupies on the request. */
export function signatureHeaderNames(signature: SignaturePolicy): readonly string[] {
  switch (signature.scheme) {
    case 'standard-webhooks':
    case 'standard-webhooks-v1a':
      return Object.values(STANDARD_WEBHOOKS_HEADERS);
    case 'timestamped-hmac-hex':
    case 'hmac-hex':
    case 'hmac-base64':
      return [signature.header];
  }
}

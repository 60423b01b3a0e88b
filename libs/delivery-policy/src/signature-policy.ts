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
}

export const SIGNATURE_SCHEME_TRAITS: Readonly<Record<SignatureScheme, SignatureSchemeTraits>> = {
  'standard-webhooks': {
    hmacKeyEncoding: 'standard-webhooks',
    digestEncoding: 'base64',
    signedContent: 'id.timestamp.body',
    carriesSeveralSignatures: true,
  },
  'timestamped-hmac-hex': {
    hmacKeyEncoding: 'raw',
    digestEncoding: 'hex',
    signedContent: 'timestamp.body',
    carriesSeveralSignatures: true,
  },
  'hmac-hex': {
    hmacKeyEncoding: 'raw',
    digestEncoding: 'hex',
    signedContent: 'body',
    carriesSeveralSignatures: false,
  },
  'hmac-base64': {
    hmacKeyEncoding: 'raw',
    digestEncoding: 'base64',
    signedContent: 'body',
    carriesSeveralSignatures: false,
  },
};

/** The header names a signature occupies on the request. */
export function signatureHeaderNames(signature: SignaturePolicy): readonly string[] {
  switch (signature.scheme) {
    case 'standard-webhooks':
      return Object.values(STANDARD_WEBHOOKS_HEADERS);
    case 'timestamped-hmac-hex':
    case 'hmac-hex':
    case 'hmac-base64':
      return [signature.header];
  }
}

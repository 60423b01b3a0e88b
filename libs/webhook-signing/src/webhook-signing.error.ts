import { CodedError } from '@skyhook/contracts';
export enum WebhookSigningErrorCode {
  /** A signer was asked for with no signing secret: every delivery must be signed. */
  NoSigningSecret = 'NO_SIGNING_SECRET',
  /** An ed25519 signing key (`whsk_`) under a scheme that signs with HMAC secrets only. */
  SigningKeyNotUsable = 'SIGNING_KEY_NOT_USABLE',
  /** A signature timestamp that is not a whole, non-negative number of Unix seconds. */
  InvalidTimestamp = 'INVALID_SIGNATURE_TIMESTAMP',
}

/**
 * A delivery that cannot be signed. These are the dispatcher's own faults (bad subscription
 * data, a bad clock value), never caller input. Messages never contain secret material.
 */
export class WebhookSigningError extends CodedError<WebhookSigningErrorCode> {
  constructor(code: WebhookSigningErrorCode, message: string) {
    super(code, message, {});
  }
}

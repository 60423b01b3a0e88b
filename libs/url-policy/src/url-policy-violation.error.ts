import { type BlockedAddress } from './address-classification';
import { CodedError } from '@skyhook/contracts';

export enum UrlPolicyViolationCode {
  InvalidUrl = 'INVALID_URL',
  UrlTooLong = 'URL_TOO_LONG',
  SchemeNotAllowed = 'SCHEME_NOT_ALLOWED',
  CredentialsNotAllowed = 'CREDENTIALS_NOT_ALLOWED',
  FragmentNotAllowed = 'FRAGMENT_NOT_ALLOWED',
  PortNotAllowed = 'PORT_NOT_ALLOWED',
  HostNotAllowed = 'HOST_NOT_ALLOWED',
  AddressNotAllowed = 'ADDRESS_NOT_ALLOWED',
  ResolutionFailed = 'RESOLUTION_FAILED',
}

export interface UrlPolicyViolationDetails {
  readonly host?: string;
  /** Present for ADDRESS_NOT_ALLOWED: which address was refused and why. */
  readonly blockedAddress?: BlockedAddress;
  readonly cause?: unknown;
}

/**
 * A URL or address the SSRF policy refuses. The API maps it to a 400 at registration; the dispatcher
 * receives it as the socket error (its `code` survives net/http unchanged) and must not retry it.
 */
export class UrlPolicyViolation extends CodedError<UrlPolicyViolationCode, UrlPolicyViolationDetails> {
  readonly host: string | undefined;
  readonly blockedAddress: BlockedAddress | undefined;

  constructor(code: UrlPolicyViolationCode, message: string, details: UrlPolicyViolationDetails = {}) {
    // The cause stays off the details (and out of logs of them): an Error's own, non-enumerable `cause`.
    super(
      code,
      message,
      { host: details.host, blockedAddress: details.blockedAddress },
      { cause: details.cause },
    );
    this.host = details.host;
    this.blockedAddress = details.blockedAddress;
  }
}

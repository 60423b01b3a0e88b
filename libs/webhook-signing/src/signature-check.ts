import { createHmac, type KeyObject, timingSafeEqual, verify as verifySignature } from 'node:crypto';
import {
  isStandardWebhooksScheme,
  SIGNATURE_SCHEME_TRAITS,
  STANDARD_WEBHOOKS_HEADERS,
  type SignaturePolicy,
} from '@skyhook/delivery-policy';
import {
  hmacKeyFor,
  PUBLIC_KEY_PREFIX,
  SecretsError,
  SIGNING_KEY_PREFIX,
  verifyingKeyOf,
} from '@skyhook/secrets';

export interface SignatureCheckInput {
  readonly signature: SignaturePolicy;
  /** The secret the receiver verifies with, as the subscription showed it (a whpk_ public key for v1a). */
  readonly secret: string;
  /** The request's headers; names in any case. */
  readonly headers: Readonly<Record<string, string>>;
  /** The body exactly as received. */
  readonly body: Buffer;
  readonly nowSeconds: number;
  /** How far a signed timestamp may be from now (Standard Webhooks' verifiers allow 5 minutes). */
  readonly toleranceSeconds?: number;
}

export interface SignatureCheckStep {
  readonly check: string;
  readonly passed: boolean;
  readonly detail: string;
}

export interface SignatureCheckResult {
  readonly verified: boolean;
  /** Each check in the order a receiver makes them, up to the first that fails. */
  readonly steps: readonly SignatureCheckStep[];
}

const DEFAULT_TOLERANCE_SECONDS = 300;

/**
 * What a receiver's verification of one webhook does, check by check, for the partner portal's
 * signature debugger: which header is missing, whether the timestamp is too old, whether the
 * secret decodes, and which signature was expected — so "my verification fails" becomes the step
 * that fails. Mirrors `compileSigner`; the seeds' own verifiers test the signer independently.
 */
export function checkWebhookSignature(input: SignatureCheckInput): SignatureCheckResult {
  const steps: SignatureCheckStep[] = [];
  const headers = new Map(
    Object.entries(input.headers).map(([name, value]) => [name.toLowerCase(), value.trim()]),
  );
  const fail = (check: string, detail: string): SignatureCheckResult => ({
    verified: false,
    steps: [...steps, { check, passed: false, detail }],
  });
  const pass = (check: string, detail: string): void => {
    steps.push({ check, passed: true, detail });
  };
  const { signature } = input;
  const secret = input.secret.trim();
  if (secret.startsWith(SIGNING_KEY_PREFIX)) {
    return fail(
      'secret',
      'a whsk_ signing key stays with the sender: verify v1a signatures with the subscription’s whpk_ public key',
    );
  }
  if (isStandardWebhooksScheme(signature) && secret.startsWith(PUBLIC_KEY_PREFIX)) {
    let publicKey: KeyObject;
    try {
      publicKey = verifyingKeyOf(secret);
    } catch (error) {
      if (error instanceof SecretsError) return fail('secret', error.message);
      throw error;
    }
    pass('secret', 'whpk_ public key decoded (ed25519): it verifies v1a signatures');
    return checkStandardWebhooks(input, headers, steps, pass, fail, {
      version: 'v1a',
      what: 'ed25519 signature of "<webhook-id>.<webhook-timestamp>.<body>" by the key’s signing key',
      matches: (signed, offered) => verifyEd25519(publicKey, signed, offered),
    });
  }
  const traits = SIGNATURE_SCHEME_TRAITS[signature.scheme];

  let key: Buffer;
  try {
    key = hmacKeyFor(secret, traits.hmacKeyEncoding);
  } catch (error) {
    if (error instanceof SecretsError) return fail('secret', error.message);
    throw error;
  }
  if (key.length === 0) return fail('secret', 'the secret is empty');
  pass(
    'secret',
    traits.hmacKeyEncoding === 'standard-webhooks'
      ? 'whsec_ secret decoded from base64'
      : 'secret used as its UTF-8 bytes',
  );

  const hmac = (prefix: string, encoding: 'hex' | 'base64'): string =>
    createHmac('sha256', key).update(prefix, 'utf8').update(input.body).digest(encoding);

  if (isStandardWebhooksScheme(signature)) {
    return checkStandardWebhooks(input, headers, steps, pass, fail, {
      version: 'v1',
      what: 'base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>"',
      expected: (signedPrefix) => hmac(signedPrefix, 'base64'),
    });
  }
  const headerName = signature.header.toLowerCase();
  if (!headers.has(headerName))
    return fail('headers', `missing ${headerName} (header names are case-insensitive)`);
  pass('headers', `${headerName} present`);

  switch (signature.scheme) {
    case 'timestamped-hmac-hex': {
      const parts = (headers.get(headerName) ?? '').split(',').map((part) => part.trim());
      const timestamp = parts.find((part) => part.startsWith('t='))?.slice(2) ?? '';
      const timely = checkTimestamp(timestamp, input);
      if (timely !== undefined) return fail('timestamp', `t=${timestamp}: ${timely}`);
      pass('timestamp', `t=${timestamp} is within ${tolerance(input)} s of now`);
      const offered = parts.filter((part) => part.startsWith('v1=')).map((part) => part.slice(3));
      return matchOne(steps, offered, hmac(`${timestamp}.`, 'hex'), 'hex HMAC-SHA256 of "<t>.<body>"');
    }
    case 'hmac-hex':
    case 'hmac-base64':
      return matchOne(
        steps,
        [headers.get(headerName) ?? ''],
        hmac('', traits.digestEncoding),
        `${traits.digestEncoding} HMAC-SHA256 of the body`,
      );
  }
}

type StandardWebhooksMatch =
  | {
      readonly version: 'v1';
      readonly what: string;
      /** The signature expected for the signed prefix `<id>.<timestamp>.`. */
      readonly expected: (signedPrefix: string) => string;
    }
  | {
      readonly version: 'v1a';
      readonly what: string;
      /** Whether one offered (base64) signature verifies over the signed bytes. */
      readonly matches: (signed: Buffer, offered: string) => boolean;
    };

/** The Standard Webhooks checks after the secret: headers, timestamp, then a `v1` or `v1a` signature. */
function checkStandardWebhooks(
  input: SignatureCheckInput,
  headers: ReadonlyMap<string, string>,
  steps: SignatureCheckStep[],
  pass: (check: string, detail: string) => void,
  fail: (check: string, detail: string) => SignatureCheckResult,
  match: StandardWebhooksMatch,
): SignatureCheckResult {
  const headerNames = Object.values(STANDARD_WEBHOOKS_HEADERS);
  const missing = headerNames.filter((name) => !headers.has(name));
  if (missing.length > 0)
    return fail('headers', `missing ${missing.join(', ')} (header names are case-insensitive)`);
  pass('headers', `${headerNames.join(', ')} present`);
  const id = headers.get(STANDARD_WEBHOOKS_HEADERS.id) ?? '';
  const timestamp = headers.get(STANDARD_WEBHOOKS_HEADERS.timestamp) ?? '';
  const timely = checkTimestamp(timestamp, input);
  if (timely !== undefined) return fail('timestamp', timely);
  pass('timestamp', `${timestamp} is within ${tolerance(input)} s of now`);
  const signedPrefix = `${id}.${timestamp}.`;
  const offered = (headers.get(STANDARD_WEBHOOKS_HEADERS.signature) ?? '')
    .split(' ')
    .filter((entry) => entry.startsWith(`${match.version},`))
    .map((entry) => entry.slice(match.version.length + 1));
  if (match.version === 'v1') return matchOne(steps, offered, match.expected(signedPrefix), match.what);
  const signed = Buffer.concat([Buffer.from(signedPrefix, 'utf8'), input.body]);
  const verified = offered.some((candidate) => match.matches(signed, candidate));
  const step: SignatureCheckStep = verified
    ? { check: 'signature', passed: true, detail: `a v1a signature is the ${match.what}` }
    : {
        check: 'signature',
        passed: false,
        detail:
          offered.length === 0
            ? 'no v1a signature in the header: is the subscription signing with a key pair (standard-webhooks-v1a)?'
            : `none of the ${offered.length} v1a signature(s) verifies with this public key: check it is the subscription’s current (or retiring) whpk_ key, and that the body is the bytes as received`,
      };
  return { verified, steps: [...steps, step] };
}

function verifyEd25519(publicKey: KeyObject, signed: Buffer, offered: string): boolean {
  const signature = Buffer.from(offered, 'base64');
  // An ed25519 signature is 64 bytes; anything else cannot verify (and would throw).
  return signature.length === 64 && verifySignature(null, signed, publicKey, signature);
}

function tolerance(input: SignatureCheckInput): number {
  return input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
}

/** Undefined when the timestamp is whole Unix seconds within the tolerance; else why not. */
function checkTimestamp(timestamp: string, input: SignatureCheckInput): string | undefined {
  if (!/^\d{1,12}$/.test(timestamp)) return `"${timestamp}" is not whole Unix seconds`;
  const skew = input.nowSeconds - Number(timestamp);
  if (Math.abs(skew) > tolerance(input)) {
    return `${Math.abs(skew)} s ${skew > 0 ? 'old' : 'in the future'}, more than the ${tolerance(input)} s receivers allow (a replayed or delayed request, or a wrong clock)`;
  }
  return undefined;
}

function matchOne(
  steps: SignatureCheckStep[],
  offered: readonly string[],
  expected: string,
  what: string,
): SignatureCheckResult {
  const matched = offered.some((candidate) => sameText(candidate, expected));
  const step: SignatureCheckStep = matched
    ? { check: 'signature', passed: true, detail: `matches the ${what}` }
    : {
        check: 'signature',
        passed: false,
        detail:
          offered.length === 0
            ? `no signature in the header; expected ${expected}`
            : `none of the ${offered.length} signature(s) is the ${what}, which is ${expected}: check the secret, and that the body is the bytes as received (not parsed and serialised again)`,
      };
  return { verified: matched, steps: [...steps, step] };
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

import { type SubscriptionsGetResponse } from '@skyhook/api-client';
import { type SignatureCheckResult } from '@skyhook/webhook-signing';
import { type Html, html } from '../html';
import { csrfField } from './layout';

type Subscription = SubscriptionsGetResponse;

export interface DebuggerInput {
  readonly headers: string;
  readonly body: string;
}

/** Receiver code for the subscription's signature scheme, in Node.js: what a partner pastes first. */
function receiverCode(subscription: Subscription): string {
  const signature = subscription.effectivePolicy.signature;
  const secretLine = `// SKYHOOK_SECRET is the secret shown when the endpoint was made or rotated (${subscription.secretHint})`;
  const currentPublicKey =
    subscription.secrets.find((secret) => secret.phase === 'current')?.publicKey ?? null;
  if (currentPublicKey !== null) return ed25519ReceiverCode(currentPublicKey);
  switch (signature.scheme) {
    case 'standard-webhooks-v1a':
    // Its current secret is still a shared one (signing with key pairs starts at the next rotation).
    case 'standard-webhooks':
      return `import express from 'express';
import { Webhook } from 'standardwebhooks'; // npm install standardwebhooks
${secretLine}
const webhook = new Webhook(process.env.SKYHOOK_SECRET);

const app = express();
// The raw bytes: a parsed and re-serialised body no longer matches its signature.
app.post('/webhooks', express.raw({ type: 'application/json' }), (req, res) => {
  let event;
  try {
    // Checks webhook-id, webhook-timestamp (within 5 minutes) and webhook-signature (v1, any of them).
    event = webhook.verify(req.body, req.headers);
  } catch {
    return res.status(401).end();
  }
  // webhook-id names the delivery: the same id again is a retry of one you may already have.
  res.status(204).end();
  handle(event);
});`;
    case 'timestamped-hmac-hex':
      return `import { createHmac, timingSafeEqual } from 'node:crypto';
import express from 'express';
${secretLine}
const secret = process.env.SKYHOOK_SECRET;

const app = express();
app.post('/webhooks', express.raw({ type: 'application/json' }), (req, res) => {
  // ${signature.header}: t=<unix seconds>,v1=<hex>[,v1=<hex>] (two v1 while a secret rotates)
  const parts = String(req.headers['${signature.header.toLowerCase()}'] ?? '').split(',');
  const t = parts.find((part) => part.startsWith('t='))?.slice(2) ?? '';
  if (Math.abs(Date.now() / 1000 - Number(t)) > 300) return res.status(401).end();
  const expected = createHmac('sha256', secret).update(\`\${t}.\`).update(req.body).digest('hex');
  const ok = parts
    .filter((part) => part.startsWith('v1='))
    .some((part) => part.length - 3 === expected.length && timingSafeEqual(Buffer.from(part.slice(3)), Buffer.from(expected)));
  if (!ok) return res.status(401).end();
  res.status(204).end();
  handle(JSON.parse(req.body.toString('utf8')));
});`;
    case 'hmac-hex':
    case 'hmac-base64': {
      const encoding = signature.scheme === 'hmac-hex' ? 'hex' : 'base64';
      return `import { createHmac, timingSafeEqual } from 'node:crypto';
import express from 'express';
${secretLine}
const secret = process.env.SKYHOOK_SECRET;

const app = express();
app.post('/webhooks', express.raw({ type: 'application/json' }), (req, res) => {
  // ${signature.header}: the ${encoding} HMAC-SHA256 of the raw body
  const offered = Buffer.from(String(req.headers['${signature.header.toLowerCase()}'] ?? ''));
  const expected = Buffer.from(createHmac('sha256', secret).update(req.body).digest('${encoding}'));
  if (offered.length !== expected.length || !timingSafeEqual(offered, expected)) return res.status(401).end();
  res.status(204).end();
  handle(JSON.parse(req.body.toString('utf8')));
});`;
    }
  }
}

/** For a subscription signing with an ed25519 key pair: `v1a`, verified with its public key. */
function ed25519ReceiverCode(publicKey: string): string {
  return `import { createPublicKey, verify } from 'node:crypto';
import express from 'express';
// SKYHOOK_PUBLIC_KEY is the endpoint's public key (${publicKey}); the organisation's keys are
// also at GET /v1/organisations/{organisationId}/signing-keys (a JWKS, no credentials needed).
const raw = Buffer.from(process.env.SKYHOOK_PUBLIC_KEY.slice('whpk_'.length), 'base64');
// An ed25519 public key is its 32 bytes after this fixed DER prefix (RFC 8410).
const spkiPrefix = Buffer.from('302a300506032b6570032100', 'hex');
const publicKey = createPublicKey({ key: Buffer.concat([spkiPrefix, raw]), format: 'der', type: 'spki' });

const app = express();
// The raw bytes: a parsed and re-serialised body no longer matches its signature.
app.post('/webhooks', express.raw({ type: 'application/json' }), (req, res) => {
  const id = String(req.headers['webhook-id'] ?? '');
  const timestamp = String(req.headers['webhook-timestamp'] ?? '');
  if (id === '' || !(Math.abs(Date.now() / 1000 - Number(timestamp)) <= 300)) return res.status(401).end();
  const signed = Buffer.concat([Buffer.from(\`\${id}.\${timestamp}.\`), req.body]);
  // webhook-signature: v1a,<base64> (two while a key rotates: either verifies)
  const ok = String(req.headers['webhook-signature'] ?? '')
    .split(' ')
    .filter((entry) => entry.startsWith('v1a,'))
    .some((entry) => verify(null, signed, publicKey, Buffer.from(entry.slice(4), 'base64')));
  if (!ok) return res.status(401).end();
  // webhook-id names the delivery: the same id again is a retry of one you may already have.
  res.status(204).end();
  handle(JSON.parse(req.body.toString('utf8')));
});`;
}

export function verifyPage(
  subscription: Subscription,
  csrfToken: string,
  input: DebuggerInput = { headers: '', body: '' },
  result?: SignatureCheckResult,
): Html {
  const id = encodeURIComponent(subscription.id);
  return html`<h1>Verify your endpoint</h1>
    <p>
      Deliveries to <code>${subscription.url}</code> are signed with
      <strong>${subscription.effectivePolicy.signature.scheme}</strong> (the ${subscription.profile} profile),
      ${
        subscription.secrets.some((secret) => secret.publicKey !== null)
          ? html`with an ed25519 key pair: verify with its public key
            ${subscription.secrets
              .filter((secret) => secret.publicKey !== null)
              .map((secret) => html`<code>${secret.publicKey}</code> (${secret.phase}) `)}`
          : html`with the secret ending <code>${subscription.secretHint}</code>`
      }.
    </p>
    <h2>Receiver code (Node.js)</h2>
    <pre id="receiver-code">${receiverCode(subscription)}</pre>
    <h2 id="debugger">Signature debugger</h2>
    <p>
      Paste a request your receiver refused — its headers and its body exactly as received — and the secret
      your receiver uses. Each check a receiver makes is shown, up to the first that fails. Line breaks in the
      body are read as <code>\\n</code>.
    </p>
    ${
      result === undefined
        ? ''
        : html`<div class="card" role="status" id="debugger-result">
            <h3>${result.verified ? 'Verified: this request is genuine' : 'Not verified'}</h3>
            <ol>
              ${result.steps.map(
                (step) =>
                  html`<li class="${step.passed ? 'check-passed' : 'check-failed'}">
                    <strong>${step.passed ? '✓' : '✗'} ${step.check}</strong>: ${step.detail}
                  </li>`,
              )}
            </ol>
          </div>`
    }
    <form class="card" method="post" action="/subscriptions/${id}/verify" aria-labelledby="debugger">
      ${csrfField(csrfToken)}
      <label for="debug-secret">Secret (or the whpk_ public key)</label>
      <input id="debug-secret" name="secret" type="password" autocomplete="off" required />
      <label for="debug-headers">Headers (one per line, <code>name: value</code>)</label>
      <textarea id="debug-headers" name="headers" rows="6" required>${input.headers}</textarea>
      <label for="debug-body">Body</label>
      <textarea id="debug-body" name="body" rows="8" required>${input.body}</textarea>
      <div class="actions"><button type="submit">Check</button></div>
    </form>
    <p><a href="/subscriptions/${id}">Back to the endpoint</a></p>`;
}

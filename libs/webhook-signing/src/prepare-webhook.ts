import { type DeliveryRequest } from '@skyhook/contracts';
import { type DeliveryPolicy } from '@skyhook/delivery-policy';
import { deliveryHeaders } from './delivery-headers';
import { type PayloadRenderer } from './webhook-payload';
import { type WebhookSigner } from './webhook-signer';

/** Exactly what to POST for one attempt. */
export interface PreparedWebhook {
  readonly body: Buffer;
  readonly headers: Record<string, string>;
}

/** What one endpoint's attempts are prepared with, compiled once per policy and secrets. */
export interface WebhookPreparation {
  readonly policy: DeliveryPolicy;
  /** Compiled from `policy.signature`. */
  readonly signer: WebhookSigner;
  /** Compiled from `policy.payload`. */
  readonly renderBody: PayloadRenderer;
}

/**
 * Body and headers for one attempt. The
 * message id is the delivery id, so it is stable across retries as Standard Webhooks asks
 * (receivers de-duplicate on it); the timestamp is the attempt time, so each retry carries a
 * fresh one and passes receivers' replay windows.
 */
export function prepareWebhook(
  { policy, signer, renderBody }: WebhookPreparation,
  request: DeliveryRequest,
  attemptAt: Date,
): PreparedWebhook {
  const body = renderBody(request);
  const headers = deliveryHeaders(policy, request);
  Object.assign(headers, signer.sign(request.deliveryId, unixSecondsOf(attemptAt), body));
  return { body, headers };
}

function unixSecondsOf(instant: Date): number {
  return Math.floor(instant.getTime() / 1000);
}

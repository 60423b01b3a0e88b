import { type DeliveryRequest } from '@skyhook/contracts';
import { type DeliveryPolicy } from '@skyhook/delivery-policy';

export const WEBHOOK_CONTENT_TYPE = 'application/json';
export const WEBHOOK_USER_AGENT = 'Skyhook-Webhooks/1.0';

/**
 * Every header of a delivery except the signature ones. Configured names keep the policy's
 * spelling (receivers' docs print `X-AviationAlley-Event`); a `null` name means "not sent". The
 * policy schema already rejects collisions and reserved names, so nothing here overwrites
 * `content-type` or `user-agent`.
 */
export function deliveryHeaders(policy: DeliveryPolicy, request: DeliveryRequest): Record<string, string> {
  const { eventType, deliveryId, extra } = policy.headers;
  const headers: Record<string, string> = {
    'content-type': WEBHOOK_CONTENT_TYPE,
    'user-agent': WEBHOOK_USER_AGENT,
  };
  if (eventType !== null) {
    headers[eventType] = request.event.type;
  }
  if (deliveryId !== null) {
    headers[deliveryId] = request.deliveryId;
  }
  return Object.assign(headers, extra);
}

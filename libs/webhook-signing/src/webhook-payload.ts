import { type DeliveryRequest } from '@skyhook/contracts';
import { type PayloadPolicy } from '@skyhook/delivery-policy';

/**
 * The JSON body bytes for one delivery. Rendered once per attempt and signed as is: receivers
 * verify the raw bytes, so nothing may re-serialise the body after signing.
 */
export function renderPayload(payloadPolicy: PayloadPolicy, request: DeliveryRequest): Buffer {
  switch (payloadPolicy.shape) {
    case 'envelope':
      return jsonBytes(envelopeOf(request));
    case 'thin':
      return jsonBytes(thinPayloadOf(request));
  }
}

/** Key order is part of the contract: receivers' docs print it, and people diff payloads. */
function envelopeOf({ organisationId, event }: DeliveryRequest): Record<string, unknown> {
  return {
    id: event.id,
    type: event.type,
    organisationId,
    scope: event.scope,
    createdAt: event.occurredAt,
    data: event.data,
  };
}

/**
 * Identifiers and status only. Some receivers want no business data over the webhook at all
 * (Flightline: "The payload intentionally carries only identifiers and status; fetch … over an
 * authenticated channel"), so a leaked or mis-routed delivery discloses nothing beyond ids, and
 * the receiver treats its API as the source of truth. Nested values are dropped even under an
 * id-like key: only a scalar is certainly an identifier.
 */
function thinPayloadOf({ event }: DeliveryRequest): Record<string, unknown> {
  const data: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(event.data)) {
    if (isIdentifierOrStatusKey(key) && isScalar(value)) {
      data[key] = value;
    }
  }
  return { id: event.id, type: event.type, createdAt: event.occurredAt, data };
}

function isIdentifierOrStatusKey(key: string): boolean {
  return key === 'id' || key === 'status' || key.endsWith('Id') || key.endsWith('_id');
}

function isScalar(value: unknown): value is string | number | boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}

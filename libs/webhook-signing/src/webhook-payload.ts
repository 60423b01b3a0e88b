import { type DeliveryRequest } from '@skyhook/contracts';
import {
  compilePayloadTemplate,
  type PayloadPolicy,
  type PayloadTemplateSource,
} from '@skyhook/delivery-policy';

/**
 * The JSON body bytes for one delivery. Rendered once per attempt and signed as is: receivers
 * verify the raw bytes, so nothing may re-serialise the body after signing.
 */
export type PayloadRenderer = (request: DeliveryRequest) => Buffer;

/**
 * Compiled once per policy (a template's pointers are parsed here, not per delivery) and kept
 * with the endpoint's signer.
 */
export function compilePayloadRenderer(payloadPolicy: PayloadPolicy): PayloadRenderer {
  switch (payloadPolicy.shape) {
    case 'envelope':
      return (request) => jsonBytes(envelopeOf(request));
    case 'thin':
      return (request) => jsonBytes(thinPayloadOf(request));
    case 'template': {
      const render = compilePayloadTemplate(payloadPolicy.template);
      return (request) => jsonBytes(render(templateSourceOf(request)));
    }
  }
}

/** One-off rendering, for callers that do not keep a compiled renderer. */
export function renderPayload(payloadPolicy: PayloadPolicy, request: DeliveryRequest): Buffer {
  return compilePayloadRenderer(payloadPolicy)(request);
}

function templateSourceOf({
  deliveryId,
  subscriptionId,
  organisationId,
  event,
  test,
}: DeliveryRequest): PayloadTemplateSource {
  return {
    event: { ...event, organisationId },
    delivery: { id: deliveryId, subscriptionId, test },
  };
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

export { WebhookSigningError, WebhookSigningErrorCode } from './webhook-signing.error';
export { compileSigner, type WebhookSigner } from './webhook-signer';
export { compilePayloadRenderer, renderPayload, type PayloadRenderer } from './webhook-payload';
export { WEBHOOK_CONTENT_TYPE, WEBHOOK_USER_AGENT, deliveryHeaders } from './delivery-headers';
export { prepareWebhook, type PreparedWebhook, type WebhookPreparation } from './prepare-webhook';
export {
  checkWebhookSignature,
  type SignatureCheckInput,
  type SignatureCheckResult,
  type SignatureCheckStep,
} from './signature-check';

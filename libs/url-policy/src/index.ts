export {
  type BlockedAddress,
  type BlockedAddressClass,
  classifyAddress,
  explainBlockedAddress,
} from './address-classification';
export { assertAddressAllowed, createGuardedLookup, type GuardedLookupOptions } from './connect-guard';
export { type LookupAll } from './lookup-all';
export { type UrlPolicyOptions } from './url-policy-options';
export {
  UrlPolicyViolation,
  UrlPolicyViolationCode,
  type UrlPolicyViolationDetails,
} from './url-policy-violation.error';
export {
  checkWebhookUrl,
  checkWebhookUrlAndResolve,
  MAX_WEBHOOK_URL_LENGTH,
  type ResolutionCheckOptions,
  type ResolvedWebhookUrl,
} from './webhook-url';

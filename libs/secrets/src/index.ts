export { SecretsError, SecretsErrorCode } from './secrets.error';
export { constantTimeEqual } from './constant-time-equal';
export {
  CALLER_SECRET_MAX_LENGTH,
  CALLER_SECRET_MIN_LENGTH,
  STANDARD_WEBHOOKS_SECRET_PREFIX,
  generateSigningSecret,
  hmacKeyFor,
  secretHint,
  validateCallerSecret,
  type HmacKeyEncoding,
} from './signing-secret';
export {
  SECRET_CIPHER_ENVIRONMENT,
  SecretCipher,
  masterKeyId,
  parseMasterKey,
  secretCipherFromEnvironment,
  type SecretCipherEnvironment,
} from './secret-cipher';
export {
  API_KEY_PREFIX,
  API_KEY_PUBLIC_ID_LENGTH,
  API_KEY_SECRET_LENGTH,
  apiKeyMatches,
  generateApiKey,
  hashApiKey,
  parseApiKey,
  type GeneratedApiKey,
  type ParsedApiKey,
} from './api-key';
export * from './portal-token';
export * from './signing-key-pair';

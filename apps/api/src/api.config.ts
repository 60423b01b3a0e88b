import { z } from 'zod';
import { CONSUMER_GROUPS } from '@skyhook/contracts';
import { kafkaEnvironmentSchema, kafkaSettingsFrom, type KafkaSettings } from '@skyhook/messaging';
import { databaseEnvironmentSchema, databaseSettingsFrom, type DatabaseSettings } from '@skyhook/persistence';
import { type SecretCipher, secretCipherFromEnvironment } from '@skyhook/secrets';
import {
  loadEnvironmentConfig,
  serviceEnvironmentSchema,
  type ServiceEnvironment,
  configuredOrStartupError,
  refuseInProduction,
  timeScaleOf,
} from '@skyhook/service-runtime';

const booleanFlag = z.enum(['true', 'false']).transform((value) => value === 'true');

const apiEnvironmentSchema = serviceEnvironmentSchema
  .extend({ PORT: serviceEnvironmentSchema.shape.PORT.default(3000) })
  .extend(kafkaEnvironmentSchema.shape)
  .extend(databaseEnvironmentSchema.shape)
  .extend({
    /** Encrypts signing secrets at rest: 32 bytes, base64 or hex. */
    SECRETS_MASTER_KEY: z.string().min(1),
    SECRETS_PREVIOUS_MASTER_KEYS: z.string().optional(),
    /** Enables the operators' API (/admin/v1); absent, that API answers 401. */
    SKYHOOK_ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
    /** Development and tests only: lets subscriptions point at http(s)://localhost. Refused in production. */
    SKYHOOK_ALLOW_HTTP_LOOPBACK: booleanFlag.default(false),
    /** How long a rotated-out signing secret keeps signing, unless the rotation request says otherwise. */
    SECRET_ROTATION_GRACE_SECONDS: z.coerce
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .default(24 * 3600),
    /** Largest `data` of an event published over HTTP (JSON bytes); larger answers 413. */
    EVENT_MAX_DATA_BYTES: z.coerce
      .number()
      .int()
      .min(1_024)
      .max(900 * 1024)
      .default(256 * 1024),
    /**
     * How long POST /v1/events waits for the broker's acknowledgement before answering 503
     * (the claim stays pending; a retry produces the same event). Without it a request would
     * wait out kafkajs' retries, tens of seconds, during a broker outage.
     */
    PUBLISH_KAFKA_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
    /**
     * Days a publish's claim (its event id, its Idempotency-Key) is kept: within them a retry is
     * recognised and answered as the first time; past them the rows are deleted (hourly).
     */
    PUBLISH_CLAIMS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(7),
    /** How often the scheduler looks for subscriptions whose expiry has passed. */
    EXPIRY_SCAN_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
    /**
     * When `skyhook.subscription.expiring` is sent: hours before the expiry, comma-separated
     * (168,24: seven days and one day before). An api that was down past a lead time sends only
     * the shortest lead time passed. Empty: no expiry notices.
     */
    EXPIRY_NOTICE_LEAD_HOURS: z
      .string()
      .default('168,24')
      .transform((value, context) => {
        const hours = value
          .split(',')
          .map((part) => part.trim())
          .filter((part) => part !== '');
        if (hours.some((part) => !/^[1-9][0-9]{0,4}$/.test(part))) {
          context.addIssue({ code: 'custom', message: 'comma-separated whole hours, 1 to 99999' });
          return z.NEVER;
        }
        return [...new Set(hours.map(Number))].sort((a, b) => b - a);
      }),
    /** How often the api looks for subscriptions due an expiry or renewal-window notice. */
    EXPIRY_NOTICE_SCAN_INTERVAL_MS: z.coerce.number().int().min(50).max(3_600_000).default(60_000),
    /** Days the partner notification log (the portal's banner, GET /v1/partner-notifications) keeps. */
    PARTNER_NOTIFICATION_RETENTION_DAYS: z.coerce.number().int().min(1).max(365).default(30),
    /**
     * How long delivery history is kept (the history service drops older days): a replay window
     * longer than this is refused, as it could only match part of what it names.
     */
    HISTORY_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
    /** The most deliveries one replay may resend; a larger replay answers 422 (split it by time). */
    REPLAY_MAX_DELIVERIES: z.coerce.number().int().min(1).max(1_000_000).default(10_000),
    /** Deliveries a replay job enqueues per page; its progress and cursor are saved after each page. */
    REPLAY_PAGE_SIZE: z.coerce.number().int().min(1).max(5_000).default(500),
    /** How often the replay runner looks for running jobs (a new job is started at once anyway). */
    REPLAY_POLL_INTERVAL_MS: z.coerce.number().int().min(20).max(60_000).default(5_000),
    /** Where partners open the portal: portal links are `<this>/enter?token=…` (ADR 0029). */
    PORTAL_PUBLIC_URL: z
      .url({ protocol: /^https?$/ })
      .default('http://127.0.0.1:3100')
      .transform((url) => url.replace(/\/+$/, '')),
    /** How long a portal link may wait to be opened, unless its request says otherwise. */
    PORTAL_LINK_MINUTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(7 * 24 * 60)
      .default(15),
    /** How long a portal session lasts once its link is opened. */
    PORTAL_SESSION_HOURS: z.coerce.number().int().min(1).max(720).default(8),
    /** The read model's consumer group; a rebuilt database starts a new one. */
    SUBSCRIPTION_READ_MODEL_GROUP: z
      .string()
      .regex(/^[a-z0-9.-]+$/)
      .default(CONSUMER_GROUPS.subscriptionReadModel.name),
  });

type ApiEnvironment = z.infer<typeof apiEnvironmentSchema>;

export interface ApiConfig extends ServiceEnvironment, ApiEnvironment {
  readonly kafka: KafkaSettings;
  readonly database: DatabaseSettings;
  readonly secretCipher: SecretCipher;
  /** Divides subscription lifetimes and renewal windows; 1 unless SKYHOOK_TIME_SCALE is set outside production. */
  readonly timeScale: number;
}

export const API_CONFIG = Symbol('API_CONFIG');

export function loadApiConfig(environment: NodeJS.ProcessEnv): ApiConfig {
  const parsed = loadEnvironmentConfig(apiEnvironmentSchema, environment);
  refuseInProduction(parsed, { SKYHOOK_ALLOW_HTTP_LOOPBACK: parsed.SKYHOOK_ALLOW_HTTP_LOOPBACK });
  const secretCipher = configuredOrStartupError(() =>
    secretCipherFromEnvironment({
      SECRETS_MASTER_KEY: parsed.SECRETS_MASTER_KEY,
      SECRETS_PREVIOUS_MASTER_KEYS: parsed.SECRETS_PREVIOUS_MASTER_KEYS,
    }),
  );
  return {
    ...parsed,
    kafka: kafkaSettingsFrom(parsed, 'skyhook-api'),
    database: databaseSettingsFrom(parsed),
    secretCipher,
    timeScale: timeScaleOf(parsed),
  };
}

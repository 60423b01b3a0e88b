import { z } from 'zod';
import { kafkaEnvironmentSchema, kafkaSettingsFrom, type KafkaSettings } from '@skyhook/messaging';
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

const dispatcherEnvironmentSchema = serviceEnvironmentSchema
  .extend({ PORT: serviceEnvironmentSchema.shape.PORT.default(3002) })
  .extend(kafkaEnvironmentSchema.shape)
  .extend({
    /** Decrypts the subscriptions' signing secrets: the same key(s) the api encrypts with. */
    SECRETS_MASTER_KEY: z.string().min(1),
    SECRETS_PREVIOUS_MASTER_KEYS: z.string().optional(),
    /** Development and tests only: lets deliveries connect to loopback addresses. Refused in production. */
    SKYHOOK_ALLOW_HTTP_LOOPBACK: booleanFlag.default(false),
    /** HTTP requests in flight in this process, over all endpoints. */
    DISPATCH_MAX_IN_FLIGHT: z.coerce.number().int().min(1).max(20_000).default(1_000),
    /**
     * While the event loop is saturated (DISPATCH_SATURATED_EVENT_LOOP_UTILISATION), the process
     * lets fewer requests in flight (×0.8 a second, down to this many) and shares the slots between
     * organisations in turn: past saturation more in flight only makes every delivery slower, a
     * quiet organisation's with a bursting one's. Grows back to DISPATCH_MAX_IN_FLIGHT once it has room.
     */
    DISPATCH_MIN_IN_FLIGHT_WHEN_SATURATED: z.coerce.number().int().min(1).max(20_000).default(32),
    /**
     * Deliveries of one organisation that may wait for a process slot (only while saturated do
     * any wait): the next of its first attempts and retries is parked at once, so that its
     * backlog waits in the parked topic and not in request partitions it shares with other
     * organisations (ADR 0032).
     */
    DISPATCH_MAX_WAITING_PER_ORGANISATION: z.coerce.number().int().min(1).max(100_000).default(500),
    /**
     * …once the organisation's deliveries are this late (ms from publish to send): a burst the
     * dispatcher soon catches up with is not parked (parking costs a produce and a consume each).
     */
    DISPATCH_ORGANISATION_LAG_BEFORE_PARKING_MS: z.coerce.number().int().min(0).max(600_000).default(2_000),
    /** HTTP requests in flight to one endpoint: a slow endpoint holds at most this many slots. */
    DISPATCH_MAX_IN_FLIGHT_PER_ENDPOINT: z.coerce.number().int().min(1).max(1_000).default(16),
    /**
     * Deliveries that may wait for the slots of a throttled endpoint (one that has been slow); the
     * next is parked (handed to the parked topic and its own consumer group) instead of holding its
     * partition. An endpoint at full concurrency queues a burst, bounded by the wait alone.
     */
    DISPATCH_MAX_QUEUED_PER_ENDPOINT: z.coerce.number().int().min(1).max(100_000).default(250),
    /** A delivery that waited this long for its endpoint's slots is parked. */
    DISPATCH_MAX_QUEUE_WAIT_MS: z.coerce.number().int().min(1).max(600_000).default(5_000),
    /**
     * Event-loop utilisation (share of the last second spent running, 0-1) above which the
     * dispatcher counts itself saturated: a delivery for an endpoint at full concurrency that
     * reached DISPATCH_MAX_QUEUE_WAIT_MS then waits on instead of being parked, since the wait is
     * the process's own. Throttled endpoints are parked as ever. Above it too, the process holds
     * fewer requests in flight (DISPATCH_MIN_IN_FLIGHT_WHEN_SATURATED). 1 turns both off.
     */
    DISPATCH_SATURATED_EVENT_LOOP_UTILISATION: z.coerce.number().min(0.5).max(1).default(0.9),
    /** Unfinished records per partition before the partition is paused (back-pressure). */
    DISPATCH_MAX_PENDING_PER_PARTITION: z.coerce.number().int().min(1).max(100_000).default(2_000),
    /**
     * Unfinished records per partition of the ordered topic before it is paused. Deliveries waiting
     * behind a failing key's head are unfinished records: this is how many a partition's keys may
     * hold before the partition's other keys wait too (ADR 0031).
     */
    DISPATCH_ORDERED_MAX_PENDING_PER_PARTITION: z.coerce.number().int().min(1).max(100_000).default(10_000),
    /**
     * An ordered delivery still waiting for the one before it of its key after this long (ms) is
     * recorded in history as `waiting`, behind that one. Shorter waits (the key's deliveries
     * simply following each other) cost nothing.
     */
    DISPATCH_ORDERED_WAITING_NOTICE_MS: z.coerce.number().int().min(0).max(600_000).default(1_000),
    /**
     * Delivery requests held in the process, over all partitions, at most what it sends in this
     * long at its recent pace (never fewer than DISPATCH_MAX_PENDING_PER_PARTITION): once the
     * process is the bottleneck the rest waits in Kafka rather than in memory, where it would age
     * past DISPATCH_MAX_QUEUE_WAIT_MS and be parked.
     */
    DISPATCH_PENDING_HORIZON_MS: z.coerce.number().int().min(100).max(60_000).default(1_000),
    /**
     * While delivery requests flow, a fetch waits up to this long (ms) for
     * DISPATCH_FETCH_BATCH_BYTES to gather: the most latency batching adds, for fewer requests to
     * the broker per delivery. 0 (the default since ADR 0026's second amendment: measured faster and
     * no dearer) turns batching off. After a quiet spell the first request is fetched at once
     * whatever this says (libs/messaging, adaptive fetch).
     */
    DISPATCH_FETCH_BATCH_WAIT_MS: z.coerce.number().int().min(0).max(1_000).default(0),
    DISPATCH_FETCH_BATCH_BYTES: z.coerce
      .number()
      .int()
      .min(1)
      .max(16 * 1_048_576)
      .default(64 * 1_024),
    /** Keep-alive connections kept per endpoint origin. */
    DISPATCH_CONNECTIONS_PER_ORIGIN: z.coerce.number().int().min(1).max(1_000).default(32),
    /**
     * A request for a subscription this process has not seen yet (its creation still on the
     * way through the log) waits this long for it before being recorded as unknown.
     */
    DISPATCH_UNKNOWN_SUBSCRIPTION_WAIT_MS: z.coerce.number().int().min(0).max(600_000).default(15_000),
    /**
     * For this long after a rotated secret activates, a 401 or 403 is the partner's receiver still
     * holding the old secret: retried on the profile's schedule whatever its retry rule says, and
     * never counted by the breaker.
     */
    SECRET_SWITCH_GRACE_SECONDS: z.coerce
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .default(3_600),
  });

type DispatcherEnvironment = z.infer<typeof dispatcherEnvironmentSchema>;

export interface DispatcherConfig extends ServiceEnvironment, DispatcherEnvironment {
  readonly kafka: KafkaSettings;
  readonly secretCipher: SecretCipher;
  /** Divides every retry wait; 1 (real time) unless SKYHOOK_TIME_SCALE is set outside production. */
  readonly timeScale: number;
}

export const DISPATCHER_CONFIG = Symbol('DISPATCHER_CONFIG');

export function loadDispatcherConfig(environment: NodeJS.ProcessEnv): DispatcherConfig {
  const parsed = loadEnvironmentConfig(dispatcherEnvironmentSchema, environment);
  refuseInProduction(parsed, { SKYHOOK_ALLOW_HTTP_LOOPBACK: parsed.SKYHOOK_ALLOW_HTTP_LOOPBACK });
  const secretCipher = configuredOrStartupError(() =>
    secretCipherFromEnvironment({
      SECRETS_MASTER_KEY: parsed.SECRETS_MASTER_KEY,
      SECRETS_PREVIOUS_MASTER_KEYS: parsed.SECRETS_PREVIOUS_MASTER_KEYS,
    }),
  );
  return {
    ...parsed,
    kafka: kafkaSettingsFrom(parsed, 'skyhook-dispatcher'),
    secretCipher,
    timeScale: timeScaleOf(parsed),
  };
}

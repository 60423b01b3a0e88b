import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { SubscriptionError, SubscriptionErrorCode, type Clock } from '@skyhook/subscriptions';
import { DeliveryHistoryRepository, type ReplayJob, ReplayJobRepository } from '@skyhook/delivery-history';
import { API_CONFIG, type ApiConfig } from '../api.config';
import { API_METRICS, type ApiMetrics } from '../api-metrics';
import { CLOCK } from '../clock.provider';
import { redeliveryRefusal } from '@skyhook/delivery';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { claimIdempotencyKey, recordIdempotentAnswer } from '../http/idempotency-keys';
import { type Organisation } from '../organisations/organisation.repository';
import { SubscriptionReadModelRepository } from '../subscriptions/subscription-read-model.repository';
import { ReplayJobRunner } from './replay-job.runner';
import { DEFAULT_REPLAY_STATUSES, type StartReplayRequest } from './replay.schemas';

const DAY_MS = 86_400_000;
/** Serialises replay creation per subscription (first key of the two-key advisory lock space). */
const REPLAY_CREATION_LOCK_SPACE = 714_625;

export interface StartReplayResult {
  readonly job: ReplayJob;
  /** False when an earlier request's job was returned (same Idempotency-Key, or the same replay still running). */
  readonly created: boolean;
}

/**
 * POST /v1/subscriptions/{id}/replay: records a bounded replay job; the runner does the sending.
 * Creation is serialised per subscription, so two identical requests racing each other still
 * make one job.
 */
@Injectable()
export class StartReplayService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly history: DeliveryHistoryRepository,
    private readonly jobs: ReplayJobRepository,
    private readonly subscriptions: SubscriptionReadModelRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    private readonly runner: ReplayJobRunner,
  ) {}

  async start(
    organisation: Organisation,
    subscriptionId: string,
    request: StartReplayRequest,
    idempotencyKey?: string,
  ): Promise<StartReplayResult> {
    const result = await this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [
        REPLAY_CREATION_LOCK_SPACE,
        subscriptionId,
      ]);
      if (idempotencyKey !== undefined) {
        const earlier = await this.claimIdempotencyKey(
          manager,
          organisation.id,
          subscriptionId,
          idempotencyKey,
          request,
        );
        if (earlier !== undefined) return { job: earlier, created: false };
      }
      const job = await this.findOrCreate(manager, organisation.id, subscriptionId, request);
      if (idempotencyKey !== undefined) {
        await recordIdempotentAnswer(manager, organisation.id, idempotencyKey, {
          status: 202,
          body: { replayJobId: job.job.id },
        });
      }
      return job;
    });
    if (result.created) this.metrics.replayJobs.inc({ state: result.job.state });
    // Worked now rather than at the runner's next poll.
    if (result.created && result.job.state === 'running') void this.runner.nudge();
    return result;
  }

  private async findOrCreate(
    manager: EntityManager,
    organisationId: string,
    subscriptionId: string,
    request: StartReplayRequest,
  ): Promise<StartReplayResult> {
    const subscription = await this.subscriptions.findIncludingDeleted(
      organisationId,
      subscriptionId,
      manager,
    );
    if (subscription === undefined) {
      throw new SubscriptionError(SubscriptionErrorCode.NotFound, `subscription ${subscriptionId} not found`);
    }
    const refusal = redeliveryRefusal(subscriptionId, subscription);
    if (refusal !== undefined) throw refusal;

    const since = new Date(request.since);
    const until = request.until === undefined ? this.clock.now() : new Date(request.until);
    if (since.getTime() >= until.getTime()) {
      throw new ApiError(
        ApiErrorCode.ValidationFailed,
        'invalid request body: since must be before until (now)',
      );
    }
    const retentionMs = this.config.HISTORY_RETENTION_DAYS * DAY_MS;
    if (until.getTime() - since.getTime() > retentionMs) {
      throw new ApiError(
        ApiErrorCode.ReplayWindowTooLong,
        `the replay window is ${describeDays(until.getTime() - since.getTime())}; history is kept ${this.config.HISTORY_RETENTION_DAYS} days, ` +
          'so a replay may span at most that',
        undefined,
        { windowMs: until.getTime() - since.getTime(), retentionDays: this.config.HISTORY_RETENTION_DAYS },
      );
    }
    const statuses = request.statuses ?? DEFAULT_REPLAY_STATUSES;
    const running = await this.jobs.findRunningLike(manager, {
      organisationId,
      subscriptionId,
      since,
      until: request.until === undefined ? undefined : until,
      statuses,
    });
    if (running !== undefined) return { job: running, created: false };

    const selection = { organisationId, subscriptionId, since, until, statuses };
    const limit = this.config.REPLAY_MAX_DELIVERIES;
    // Counted a hundred times past the limit at most, so the refusal can say by how much, cheaply.
    const matched = await this.history.countReplayable(selection, limit * 100 + 1, manager);
    if (matched > limit) {
      const count =
        matched > limit * 100
          ? `more than ${(limit * 100).toLocaleString('en-GB')}`
          : matched.toLocaleString('en-GB');
      throw new ApiError(
        ApiErrorCode.ReplayTooLarge,
        `this replay matches ${count} deliveries; the limit is ${limit.toLocaleString('en-GB')} per replay: ` +
          'narrow the window (since, until) or the statuses, and replay in several parts',
        undefined,
        { matched, limit },
      );
    }
    const job = await this.jobs.insert(manager, {
      id: `rpl_${randomBytes(16).toString('hex')}`,
      ...selection,
      // Nothing to send: done at once, so the caller's first answer is already final.
      state: matched === 0 ? 'completed' : 'running',
      matched,
    });
    return { job, created: true };
  }

  /**
   * Claims the key for this request, or returns the job the first request with it got. The key
   * space is the organisation's (shared with POST /v1/events): a key reused for a different
   * request, here or there, is refused.
   */
  private async claimIdempotencyKey(
    manager: EntityManager,
    organisationId: string,
    subscriptionId: string,
    key: string,
    request: StartReplayRequest,
  ): Promise<ReplayJob | undefined> {
    const requestHash = createHash('sha256')
      .update(
        JSON.stringify({
          operation: 'replay',
          subscriptionId,
          since: request.since,
          until: request.until ?? null,
          statuses: request.statuses ?? null,
        }),
      )
      .digest('hex');
    const earlier = await claimIdempotencyKey(manager, {
      organisationId,
      key,
      requestHash,
      newRequest: 'a new replay',
    });
    if (earlier === undefined) return undefined;
    const jobId = earlier.responseBody['replayJobId'];
    const job =
      typeof jobId === 'string'
        ? await this.jobs.find(organisationId, subscriptionId, jobId, manager)
        : undefined;
    if (job === undefined) {
      throw new ApiError(
        ApiErrorCode.IdempotencyKeyReused,
        'this Idempotency-Key was used with a different request; use a new key for a new replay',
      );
    }
    return job;
  }
}

function describeDays(ms: number): string {
  const days = ms / DAY_MS;
  return `${Number.isInteger(days) ? days : days.toFixed(1)} days`;
}

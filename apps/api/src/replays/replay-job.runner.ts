import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type DeliveryRetry } from '@skyhook/contracts';
import { ContractProducer } from '@skyhook/messaging';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import { PeriodicTask } from '@skyhook/service-runtime';
import { type Clock } from '@skyhook/subscriptions';
import {
  DeliveryHistoryRepository,
  RedeliveryAttemptNumbers,
  type ReplayJob,
  ReplayJobRepository,
} from '@skyhook/delivery-history';
import { partnerNotification, recordPartnerNotifications } from '@skyhook/partner-notifications';
import { API_CONFIG, type ApiConfig } from '../api.config';
import { API_METRICS, type ApiMetrics } from '../api-metrics';
import { CLOCK } from '../clock.provider';
import { PartnerNotificationOutbox } from '../partner-notifications/partner-notification.outbox';
import {
  recordedRequestOf,
  REDELIVERY_TOPIC_KEY,
  redeliveryContract,
  redeliveryOf,
  redeliveryRefusal,
} from '@skyhook/delivery';
import { SubscriptionReadModelRepository } from '../subscriptions/subscription-read-model.repository';

/** Running jobs looked at per pass; more wait for the next pass. */
const JOBS_PER_PASS = 100;
/** How often a pass also forgets attempt-number reservations older than the history retention. */
const FORGET_RESERVATIONS_EVERY_MS = 3_600_000;
const DAY_MS = 86_400_000;

type PageOutcome =
  | { readonly next: 'more'; readonly enqueued: number }
  | { readonly next: 'stop'; readonly enqueued: number; readonly reached?: 'completed' | 'failed' };

/**
 * Works through running replay jobs, one page at a time, in any number of api instances:
 * - each page is one transaction holding the job's row lock (`FOR UPDATE SKIP LOCKED`): the
 *   page's retries are produced (acks=all), then its progress and cursor are saved; another
 *   instance skips a job whose row is locked, so no two instances ever work one job at once;
 * - a crash between the produce and the commit sends that page again after the restart (same
 *   delivery ids, which receivers de-duplicate on): at least once, never lost;
 * - jobs live in PostgreSQL, so a restarted api resumes them after their saved cursor.
 */
@Injectable()
export class ReplayJobRunner implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly passes: PeriodicTask;
  private reservationsForgottenAt = 0;
  /** Set when a committed page recorded a notification: the outbox is nudged after the commit. */
  private noticesRecorded = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly jobs: ReplayJobRepository,
    private readonly history: DeliveryHistoryRepository,
    private readonly attemptNumbers: RedeliveryAttemptNumbers,
    private readonly subscriptions: SubscriptionReadModelRepository,
    private readonly producer: ContractProducer,
    private readonly notificationOutbox: PartnerNotificationOutbox,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(API_METRICS) private readonly metrics: ApiMetrics,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {
    this.passes = new PeriodicTask(
      () => this.workRunningJobs(),
      config.REPLAY_POLL_INTERVAL_MS,
      (error) => logger.warn({ err: error }, 'replay pass failed; retrying'),
    );
  }

  onApplicationBootstrap(): void {
    this.passes.start();
  }

  /** Stops before the producer and the database close: the page in hand finishes (or rolls back). */
  async beforeApplicationShutdown(): Promise<void> {
    await this.passes.stop();
  }

  /** Works the running jobs now (after a job was created) instead of at the next poll. */
  nudge(): Promise<void> {
    return this.passes.nudge();
  }

  private async workRunningJobs(): Promise<void> {
    const now = this.clock.now().getTime();
    if (now - this.reservationsForgottenAt >= FORGET_RESERVATIONS_EVERY_MS) {
      this.reservationsForgottenAt = now;
      await this.attemptNumbers.forgetUntouchedSince(
        new Date(now - this.config.HISTORY_RETENTION_DAYS * DAY_MS),
      );
    }
    const ids = await this.jobs.runningJobIds(JOBS_PER_PASS);
    this.metrics.replayJobsRunning.set(ids.length);
    for (const id of ids) {
      if (this.passes.stopping) return;
      try {
        for (;;) {
          const page = await this.workPage(id);
          // Counted once the page's transaction committed: a rolled-back page is sent again and counted then.
          // And before the notification goes out, so a job seen finished is already counted.
          this.metrics.replayDeliveriesEnqueued.inc(page.enqueued);
          if (page.next === 'stop' && page.reached !== undefined)
            this.metrics.replayJobs.inc({ state: page.reached });
          if (this.noticesRecorded) {
            this.noticesRecorded = false;
            await this.notificationOutbox.nudge();
          }
          if (page.next === 'stop') break;
          if (this.passes.stopping) return;
        }
      } catch (error) {
        // Kafka or the database is unavailable: the page rolled back; the next pass retries it.
        this.logger.warn({ err: error, replayJobId: id }, 'replay page failed; retrying on the next pass');
      }
    }
  }

  /** `skyhook.replay.completed`, in the page's transaction: a rolled-back finish notifies nothing. */
  private async noticeFinished(
    manager: EntityManager,
    job: Pick<ReplayJob, 'id' | 'organisationId' | 'subscriptionId'>,
    state: 'completed' | 'failed',
    enqueued: number,
    failedReason: string | null,
  ): Promise<void> {
    const notice = partnerNotification(
      'skyhook.replay.completed',
      job.organisationId,
      job.subscriptionId,
      [job.id],
      this.clock.now().toISOString(),
      {
        subscriptionId: job.subscriptionId,
        replayId: job.id,
        state,
        enqueued,
        failedReason: failedReason === null ? null : failedReason.slice(0, 1_000),
        finishedAt: this.clock.now().toISOString(),
      },
    );
    if ((await recordPartnerNotifications(manager, [notice])).length > 0) this.noticesRecorded = true;
  }

  private workPage(id: string): Promise<PageOutcome> {
    return this.dataSource.transaction(async (manager): Promise<PageOutcome> => {
      const job = await this.jobs.lockRunning(manager, id);
      if (job === undefined) return { next: 'stop', enqueued: 0 };
      const refusal = redeliveryRefusal(
        job.subscriptionId,
        await this.subscriptions.findIncludingDeleted(job.organisationId, job.subscriptionId, manager),
      );
      if (refusal !== undefined) {
        await this.jobs.fail(manager, job.id, refusal.message);
        await this.noticeFinished(manager, job, 'failed', job.enqueued, refusal.message);
        this.logger.info({ replayJobId: job.id, reason: refusal.code }, 'replay stopped');
        return { next: 'stop', enqueued: 0, reached: 'failed' };
      }
      const pageSize = this.config.REPLAY_PAGE_SIZE;
      const candidates = await this.history.replayPage(job, job.cursor, pageSize, manager);
      const now = this.clock.now();
      const retries: DeliveryRetry[] = [];
      // In the page's transaction: a page rolled back and sent again gets the same numbers.
      const attemptNumbers = await this.attemptNumbers.reserve(candidates, manager);
      for (const candidate of candidates) {
        const request = recordedRequestOf(candidate.request, {
          organisationId: job.organisationId,
          subscriptionId: job.subscriptionId,
          deliveryId: candidate.deliveryId,
        });
        if (request === undefined) {
          this.logger.warn(
            { replayJobId: job.id, deliveryId: candidate.deliveryId },
            'recorded delivery request is not sendable; skipped by the replay',
          );
          continue;
        }
        retries.push(redeliveryOf(request, attemptNumbers.get(candidate.deliveryId) as number, now));
      }
      await this.producer.send(redeliveryContract, REDELIVERY_TOPIC_KEY, retries);
      const finished = candidates.length < pageSize;
      await this.jobs.recordPage(manager, job.id, {
        enqueued: retries.length,
        cursor: candidates[candidates.length - 1]?.position,
        finished,
      });
      if (!finished) return { next: 'more', enqueued: retries.length };
      await this.noticeFinished(manager, job, 'completed', job.enqueued + retries.length, null);
      this.logger.info(
        { replayJobId: job.id, enqueued: job.enqueued + retries.length, matched: job.matched },
        'replay completed',
      );
      return { next: 'stop', enqueued: retries.length, reached: 'completed' };
    });
  }
}

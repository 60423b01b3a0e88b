import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';
import {
  forgetPartnerNotificationsBefore,
  partnerNotification,
  type PartnerNotification,
  recordPartnerNotifications,
} from '@skyhook/partner-notifications';
import { PeriodicTask } from '@skyhook/service-runtime';
import { type Clock } from '@skyhook/subscriptions';
import { API_CONFIG, type ApiConfig } from '../api.config';
import { CLOCK } from '../clock.provider';
import { PartnerNotificationOutbox } from './partner-notification.outbox';

/** Subscriptions noticed per transaction; a pass goes on until none is due. */
const NOTICES_PER_BATCH = 200;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** A subscription due an expiry notice, a renewal-window notice, or both. */
interface DueSubscription {
  readonly id: string;
  readonly organisationId: string;
  readonly url: string;
  readonly description: string;
  readonly expiresAt: Date;
  /** The shortest lead time (hours) already passed; null when none has. */
  readonly dueLeadHours: number | null;
  readonly renewalOpensAt: Date;
  readonly renewalOpen: boolean;
  /** What was noticed for this expiry already (a renewal's new expiry starts afresh). */
  readonly noticedLeadHours: number | null;
  readonly renewalNoticed: boolean;
}

/**
 * Sends `skyhook.subscription.expiring` at each lead time (EXPIRY_NOTICE_LEAD_HOURS) before a
 * subscription's expiry and `skyhook.subscription.renewal_window_opened` when its renewal
 * window opens. Which notices a subscription had for its current expiry is kept beside it
 * (`subscription_expiry_notices`), so a pass reads only the subscriptions due one. No row is
 * locked: the notifications' ids are derived from the expiry and lead time, so two api
 * instances scanning at once record (and send) each once. Also forgets logged notifications past their retention, hourly.
 */
@Injectable()
export class ExpiryNoticeScheduler implements OnModuleInit, OnApplicationShutdown {
  private readonly task: PeriodicTask;
  private forgottenAt = 0;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: PartnerNotificationOutbox,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: ServiceLogger,
  ) {
    this.task = new PeriodicTask(
      async () => {
        await this.noticeDue();
        await this.forgetOld();
      },
      config.EXPIRY_NOTICE_SCAN_INTERVAL_MS,
      (error) => this.logger.warn({ err: error }, 'expiry notice scan failed; retrying'),
    );
  }

  onModuleInit(): void {
    this.task.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.task.stop();
  }

  /** One scan now; returns how many notifications it recorded. */
  async noticeDue(): Promise<number> {
    let recorded = 0;
    for (;;) {
      const { due, fresh } = await this.dataSource.transaction(async (manager) => {
        const found = await this.findDue(manager, this.clock.now());
        const notices = found.flatMap((subscription) => this.noticesFor(subscription));
        const ids = await recordPartnerNotifications(manager, notices);
        await this.markNoticed(manager, found);
        return { due: found.length, fresh: ids.length };
      });
      recorded += fresh;
      if (due < NOTICES_PER_BATCH || this.task.stopping) break;
    }
    if (recorded > 0) {
      this.logger.info({ count: recorded }, 'expiry notices recorded');
      await this.outbox.nudge();
    }
    return recorded;
  }

  private async forgetOld(): Promise<void> {
    const now = this.clock.now().getTime();
    if (now - this.forgottenAt < HOUR_MS) return;
    this.forgottenAt = now;
    await forgetPartnerNotificationsBefore(
      this.dataSource,
      new Date(now - this.config.PARTNER_NOTIFICATION_RETENTION_DAYS * DAY_MS),
    );
  }

  private noticesFor(subscription: DueSubscription): PartnerNotification[] {
    const subject = {
      subscriptionId: subscription.id,
      url: subscription.url,
      description: subscription.description,
    };
    const expiresAt = subscription.expiresAt.toISOString();
    const renewalOpensAt = subscription.renewalOpensAt.toISOString();
    const now = this.clock.now().toISOString();
    const notices: PartnerNotification[] = [];
    const lead = subscription.dueLeadHours;
    if (lead !== null && (subscription.noticedLeadHours === null || subscription.noticedLeadHours > lead)) {
      notices.push(
        partnerNotification(
          'skyhook.subscription.expiring',
          subscription.organisationId,
          subscription.id,
          [subscription.id, expiresAt, lead],
          now,
          { ...subject, expiresAt, leadTimeHours: lead, renewalOpensAt },
        ),
      );
    }
    if (subscription.renewalOpen && !subscription.renewalNoticed) {
      notices.push(
        partnerNotification(
          'skyhook.subscription.renewal_window_opened',
          subscription.organisationId,
          subscription.id,
          [subscription.id, expiresAt],
          now,
          { ...subject, expiresAt, renewalOpensAt },
        ),
      );
    }
    return notices;
  }

  /**
   * Live subscriptions before their expiry that passed a lead time or their renewal window's
   * opening without the notice for it. Lead times and windows are divided by the time scale
   * (tests and demos only), like lifetimes.
   */
  private async findDue(manager: EntityManager, now: Date): Promise<DueSubscription[]> {
    const scale = this.config.timeScale;
    const leadSeconds = this.config.EXPIRY_NOTICE_LEAD_HOURS.map((hours) => (hours * 3_600) / scale);
    const rows = await manager.query<
      {
        id: string;
        organisation_id: string;
        url: string;
        description: string;
        expires_at: Date;
        due_lead_hours: number | null;
        renewal_opens_at: Date;
        renewal_open: boolean;
        noticed_lead_hours: number | null;
        renewal_noticed: boolean;
      }[]
    >(
      `SELECT * FROM (
         SELECT s.id, s.organisation_id, s.url, s.description, s.expires_at,
           (SELECT min(lead.hours) FROM unnest($2::int[], $3::float8[]) AS lead(hours, seconds)
             WHERE s.expires_at - make_interval(secs => lead.seconds) <= $1) AS due_lead_hours,
           s.expires_at - make_interval(secs => o.renewal_window_days * 86400.0 / $4) AS renewal_opens_at,
           o.renewal_window_days > 0
             AND s.expires_at - make_interval(secs => o.renewal_window_days * 86400.0 / $4) <= $1 AS renewal_open,
           CASE WHEN n.expires_at = s.expires_at THEN n.noticed_lead_hours END AS noticed_lead_hours,
           COALESCE(n.expires_at = s.expires_at AND n.renewal_window_noticed, false) AS renewal_noticed
         FROM subscriptions s
         JOIN organisations o ON o.id = s.organisation_id
         LEFT JOIN subscription_expiry_notices n ON n.subscription_id = s.id
         WHERE NOT s.deleted AND s.status IN ('active', 'disabled') AND s.expires_at IS NOT NULL
           AND s.expires_at > $1
           AND s.expires_at <= $1 + make_interval(secs => greatest($5::float8, o.renewal_window_days * 86400.0 / $4))
       ) candidate
       WHERE (due_lead_hours IS NOT NULL AND (noticed_lead_hours IS NULL OR noticed_lead_hours > due_lead_hours))
          OR (renewal_open AND NOT renewal_noticed)
       ORDER BY expires_at, id
       LIMIT $6`,
      [
        now,
        this.config.EXPIRY_NOTICE_LEAD_HOURS,
        leadSeconds,
        scale,
        Math.max(0, ...leadSeconds),
        NOTICES_PER_BATCH,
      ],
    );
    return rows.map((row) => ({
      id: row.id,
      organisationId: row.organisation_id,
      url: row.url,
      description: row.description,
      expiresAt: row.expires_at,
      dueLeadHours: row.due_lead_hours,
      renewalOpensAt: row.renewal_opens_at,
      renewalOpen: row.renewal_open,
      noticedLeadHours: row.noticed_lead_hours,
      renewalNoticed: row.renewal_noticed,
    }));
  }

  private async markNoticed(manager: EntityManager, noticed: readonly DueSubscription[]): Promise<void> {
    if (noticed.length === 0) return;
    await manager.query(
      `INSERT INTO subscription_expiry_notices (subscription_id, expires_at, noticed_lead_hours, renewal_window_noticed)
       SELECT n.subscription_id, n.expires_at, n.noticed_lead_hours, n.renewal_window_noticed
       FROM jsonb_to_recordset($1::jsonb)
         AS n(subscription_id text, expires_at timestamptz, noticed_lead_hours int, renewal_window_noticed boolean)
       ON CONFLICT (subscription_id) DO UPDATE SET
         expires_at = EXCLUDED.expires_at,
         noticed_lead_hours = EXCLUDED.noticed_lead_hours,
         renewal_window_noticed = EXCLUDED.renewal_window_noticed`,
      [
        JSON.stringify(
          noticed.map((subscription) => ({
            subscription_id: subscription.id,
            expires_at: subscription.expiresAt.toISOString(),
            noticed_lead_hours:
              subscription.dueLeadHours === null
                ? subscription.noticedLeadHours
                : Math.min(subscription.dueLeadHours, subscription.noticedLeadHours ?? Infinity),
            renewal_window_noticed: subscription.renewalNoticed || subscription.renewalOpen,
          })),
        ),
      ],
    );
  }
}

import {
  type AdminSubscription,
  type CreatedOrganisation,
  type IssuedApiKey,
  type ReplayJob,
} from './admin-api-client';
import { type GroupTopicLag } from './consumer-lag-report';

/** Left-aligned columns, two spaces apart, a header row first: readable in a terminal, greppable. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export function formatCreatedOrganisation(created: CreatedOrganisation): string {
  return [
    `Organisation ${created.organisation.id} (${created.organisation.name}) created.`,
    `API key ${created.id}, shown only this once, store it now:`,
    created.apiKey,
  ].join('\n');
}

export function formatIssuedApiKey(organisationId: string, issued: IssuedApiKey): string {
  return [
    `API key ${issued.id} issued for ${organisationId}, shown only this once, store it now:`,
    issued.apiKey,
  ].join('\n');
}

export function formatDisabledSubscriptions(subscriptions: readonly AdminSubscription[]): string {
  if (subscriptions.length === 0) return 'No disabled endpoints.';
  return formatTable(
    ['ID', 'ORGANISATION', 'URL', 'REASON', 'DISABLED AT', 'DETAIL'],
    subscriptions.map((subscription) => [
      subscription.id,
      subscription.organisationId,
      subscription.url,
      subscription.disabledReason ?? '-',
      subscription.updatedAt,
      subscription.disabledDetail ?? '',
    ]),
  );
}

export function formatEnabledSubscription(subscription: AdminSubscription): string {
  return `Subscription ${subscription.id} of ${subscription.organisationId} is ${subscription.status} (version ${subscription.version}).`;
}

export function formatConsumerLag(report: readonly GroupTopicLag[]): string {
  return formatTable(
    ['GROUP', 'TOPIC', 'COMMITTED', 'END', 'LAG', 'STATE'],
    report.map((row) => [row.group, row.topic, row.committed, row.end, row.lag, row.state]),
  );
}

export function formatReplayJob(job: ReplayJob): string {
  const progress = `${job.enqueued} of ${job.matched} deliveries enqueued`;
  return [
    `Replay ${job.id} of ${job.subscriptionId}: ${job.state}, ${progress}.`,
    `Window ${job.since} to ${job.until}, statuses ${job.statuses.join(',')}.`,
    ...(job.error === null ? [] : [`Error: ${job.error}`]),
  ].join('\n');
}

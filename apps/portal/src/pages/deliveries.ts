import {
  type DeliveriesGetResponse,
  type DeliveriesListResponse,
  type ReplaysGetResponse,
} from '@skyhook/api-client';
import { type Html, html } from '../html';
import { csrfField, statusBadge, when } from './layout';
import { deliveryTable } from './subscriptions';

export const DELIVERY_STATUS_FILTERS = [
  'waiting',
  'retrying',
  'delivered',
  'failed',
  'dropped',
  'held',
] as const;

export interface DeliveryFilters {
  readonly status?: string;
  readonly eventType?: string;
  readonly subscriptionId?: string;
}

export function deliveriesPage(page: DeliveriesListResponse, filters: DeliveryFilters): Html {
  const next = new URLSearchParams(
    Object.entries({ ...filters, cursor: page.nextCursor ?? undefined }).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
    ),
  );
  return html`<h1>Deliveries</h1>
    <form class="card" method="get" action="/deliveries" aria-label="Filter deliveries">
      ${
        filters.subscriptionId === undefined
          ? ''
          : html`<input type="hidden" name="subscriptionId" value="${filters.subscriptionId}" />`
      }
      <label for="status">Status</label>
      <select id="status" name="status">
        <option value="">any</option>
        ${DELIVERY_STATUS_FILTERS.map(
          (status) =>
            html`<option value="${status}" ${filters.status === status ? 'selected' : ''}>${status}</option>`,
        )}
      </select>
      <label for="eventType">Event type</label>
      <input id="eventType" name="eventType" type="text" value="${filters.eventType ?? ''}" />
      <div class="actions"><button type="submit">Filter</button></div>
    </form>
    ${deliveryTable(page.data)}
    ${page.nextCursor === null ? '' : html`<p><a href="/deliveries?${next.toString()}">Older deliveries</a></p>`}`;
}

export function deliveryPage(delivery: DeliveriesGetResponse, csrfToken: string): Html {
  return html`<h1>Delivery <code>${delivery.id}</code></h1>
    <div class="card">
      <dl>
        <dt>Status</dt>
        <dd>
          ${statusBadge(delivery.status)}${delivery.skipReason === null ? '' : html` — ${delivery.skipReason}`}${
            delivery.waitingBehind === null
              ? ''
              : html` — behind
                  <a href="/deliveries/${encodeURIComponent(delivery.waitingBehind)}"
                    ><code>${delivery.waitingBehind}</code></a
                  >, the delivery before it of its ordering key`
          }
        </dd>
        <dt>Event</dt>
        <dd>
          <code>${delivery.eventType}</code>
          <code>${delivery.eventId}</code>${delivery.test ? ' (test event)' : ''}
        </dd>
        <dt>Endpoint</dt>
        <dd>
          <a href="/subscriptions/${encodeURIComponent(delivery.subscriptionId)}"
            ><code>${delivery.subscriptionId}</code></a
          >
        </dd>
        <dt>Published</dt>
        <dd>${when(delivery.publishedAt)}</dd>
        <dt>Next attempt</dt>
        <dd>${when(delivery.nextAttemptAt)}</dd>
      </dl>
      <div class="actions">
        ${
          delivery.requestRecorded
            ? html`<form
                class="inline"
                method="post"
                action="/deliveries/${encodeURIComponent(delivery.id)}/resend"
              >
                ${csrfField(csrfToken)}<button type="submit">Resend</button>
              </form>`
            : html`<span class="muted">Resend becomes possible once the first attempt is recorded.</span>`
        }
        ${
          delivery.status === 'failed'
            ? html`<form
                  class="inline"
                  method="post"
                  action="/deliveries/${encodeURIComponent(delivery.id)}/skip"
                >
                  ${csrfField(csrfToken)}<button type="submit">Skip</button>
                </form>
                <span class="muted">Skip lets a held ordering key go on without this delivery.</span>`
            : ''
        }
      </div>
    </div>
    <h2>Attempts</h2>
    ${
      delivery.attempts.length === 0
        ? html`<p class="card">No attempt recorded yet.</p>`
        : delivery.attempts.map(
            (attempt) =>
              html`<section class="card attempt" aria-label="Attempt ${attempt.attemptNumber}">
                <h3>
                  Attempt ${attempt.attemptNumber}: ${attempt.result}${attempt.repeated ? ' (repeated)' : ''}
                </h3>
                <dl>
                  <dt>At</dt>
                  <dd>${when(attempt.attemptedAt)} (${attempt.durationMs} ms)</dd>
                  <dt>URL</dt>
                  <dd><code>${attempt.url}</code></dd>
                  <dt>Response</dt>
                  <dd class="response-status">${attempt.responseStatus ?? '—'} (${attempt.outcome})</dd>
                  ${
                    attempt.errorCode === null
                      ? ''
                      : html`<dt>Error</dt>
                          <dd>${attempt.errorCode}: ${attempt.errorMessage ?? ''}</dd>`
                  }
                  <dt>Next attempt</dt>
                  <dd>${when(attempt.nextAttemptAt)}</dd>
                </dl>
                <h4>Response body (first 4 KiB)</h4>
                <pre class="response-body">${attempt.responseBody ?? '(none)'}</pre>
                <details>
                  <summary>Request headers (${attempt.requestBodyBytes} bytes of body)</summary>
                  <pre>
${Object.entries(attempt.requestHeaders)
                      .map(([name, value]) => `${name}: ${value}`)
                      .join('\n')}</pre>
                </details>
              </section>`,
          )
    }`;
}

export function replayPage(job: ReplaysGetResponse): Html {
  return html`<h1>Replay <code>${job.id}</code></h1>
    <div class="card" role="status" aria-live="polite">
      <dl>
        <dt>State</dt>
        <dd>${job.state}${job.error === null ? '' : html` — ${job.error}`}</dd>
        <dt>Window</dt>
        <dd>${when(job.since)} to ${when(job.until)}, ${job.statuses.join(', ')}</dd>
        <dt>Progress</dt>
        <dd>
          <progress max="${Math.max(job.matched, 1)}" value="${job.enqueued}"></progress> ${job.enqueued} of
          ${job.matched} deliveries resent
        </dd>
      </dl>
      ${job.state === 'running' ? html`<p class="muted">This page refreshes every 2 s until the replay ends.</p>` : ''}
    </div>
    <p><a href="/subscriptions/${encodeURIComponent(job.subscriptionId)}">Back to the endpoint</a></p>`;
}

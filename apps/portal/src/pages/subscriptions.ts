import {
  type DeliveriesListResponse,
  type EventTypesListResponse,
  type SubscriptionsCreateResponse,
  type SubscriptionsGetResponse,
  type SubscriptionsListResponse,
} from '@skyhook/api-client';
import { type Html, html } from '../html';
import { csrfField, statusBadge, when } from './layout';

type Subscription = SubscriptionsGetResponse;
type Delivery = DeliveriesListResponse['data'][number];

export interface SubscriptionForm {
  readonly url?: string;
  readonly description?: string;
  readonly eventTypes?: readonly string[];
}

export function subscriptionsPage(
  list: SubscriptionsListResponse,
  catalogue: EventTypesListResponse,
  csrfToken: string,
  form: SubscriptionForm = {},
): Html {
  const chosen = new Set(form.eventTypes ?? []);
  return html`<h1>Subscriptions</h1>
    ${
      list.data.length === 0
        ? html`<p class="card">No subscriptions yet: add your endpoint below to start receiving webhooks.</p>`
        : html`<table>
            <thead>
              <tr>
                <th scope="col">Endpoint</th>
                <th scope="col">Status</th>
                <th scope="col">Event types</th>
                <th scope="col">Expires</th>
              </tr>
            </thead>
            <tbody>
              ${list.data.map(
                (subscription) =>
                  html`<tr>
                    <td>
                      <a href="/subscriptions/${encodeURIComponent(subscription.id)}">${subscription.url}</a>
                      <div class="muted">${subscription.description}</div>
                    </td>
                    <td>${statusBadge(subscription.status)}</td>
                    <td>${subscription.eventTypes.join(', ')}</td>
                    <td>${when(subscription.expiresAt)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    ${
      list.nextCursor === null
        ? ''
        : html`<p><a href="/subscriptions?cursor=${encodeURIComponent(list.nextCursor)}">Next page</a></p>`
    }
    <h2 id="new">Add an endpoint</h2>
    <form class="card" method="post" action="/subscriptions" aria-labelledby="new">
      ${csrfField(csrfToken)}
      <label for="url">Endpoint URL (https)</label>
      <input
        id="url"
        name="url"
        type="url"
        required
        placeholder="https://example.com/webhooks"
        value="${form.url ?? ''}"
      />
      <label for="description">Description</label>
      <input
        id="description"
        name="description"
        type="text"
        maxlength="500"
        value="${form.description ?? ''}"
      />
      <fieldset>
        <legend>Event types</legend>
        <label
          ><input type="checkbox" name="eventTypes" value="*" ${chosen.has('*') ? 'checked' : ''} /> Every
          event type</label
        >
        ${catalogue.data.map(
          (type) =>
            html`<label
              ><input
                type="checkbox"
                name="eventTypes"
                value="${type.name}"
                ${chosen.has(type.name) ? 'checked' : ''}
              />
              <span><code>${type.name}</code> <span class="muted">${type.description}</span></span></label
            >`,
        )}
      </fieldset>
      <div class="actions"><button type="submit">Add endpoint</button></div>
    </form>`;
}

export function subscriptionPage(
  subscription: Subscription,
  deliveries: readonly Delivery[],
  csrfToken: string,
  created?: SubscriptionsCreateResponse,
): Html {
  const id = encodeURIComponent(subscription.id);
  const action = (path: string, label: string, secondary = false) =>
    html`<form class="inline" method="post" action="/subscriptions/${id}/${path}">
      ${csrfField(csrfToken)}<button type="submit" ${secondary ? html`class="secondary"` : ''}>
        ${label}
      </button>
    </form>`;
  return html`<h1>Endpoint <code>${subscription.url}</code></h1>
    ${
      created === undefined
        ? ''
        : html`<div class="card" role="status">
            <h2>Signing secret</h2>
            <p>Shown this once: keep it where your receiver reads it, and verify every webhook with it.</p>
            <pre id="signing-secret">${created.signingSecret}</pre>
          </div>`
    }
    <div class="card">
      <dl>
        <dt>Status</dt>
        <dd>
          ${statusBadge(subscription.status)}
          ${subscription.disabledReason === null ? '' : html` — ${subscription.disabledReason}: ${subscription.disabledDetail ?? ''}`}
        </dd>
        <dt>Id</dt>
        <dd><code>${subscription.id}</code></dd>
        <dt>Description</dt>
        <dd>${subscription.description || '—'}</dd>
        <dt>Event types</dt>
        <dd>${subscription.eventTypes.join(', ')}</dd>
        <dt>Expires</dt>
        <dd>${when(subscription.expiresAt)}</dd>
        <dt>Signing secrets</dt>
        <dd>${subscription.secrets.map((secret) => html`<code>${secret.hint}</code> `)}</dd>
      </dl>
      <div class="actions">
        ${action('test-event', 'Send a test event')}
        ${subscription.status === 'active' ? action('disable', 'Disable', true) : ''}
        ${subscription.status === 'disabled' ? action('enable', 'Enable') : ''}
      </div>
    </div>
    <h2>Recent deliveries</h2>
    ${deliveryTable(deliveries)}
    <p><a href="/deliveries?subscriptionId=${id}">All deliveries to this endpoint</a></p>`;
}

export function deliveryTable(deliveries: readonly Delivery[]): Html {
  if (deliveries.length === 0) return html`<p class="card">No deliveries yet.</p>`;
  return html`<table>
    <thead>
      <tr>
        <th scope="col">Delivery</th>
        <th scope="col">Event type</th>
        <th scope="col">Status</th>
        <th scope="col">Attempts</th>
        <th scope="col">Last response</th>
        <th scope="col">Published</th>
      </tr>
    </thead>
    <tbody>
      ${deliveries.map(
        (delivery) =>
          html`<tr>
            <td>
              <a href="/deliveries/${encodeURIComponent(delivery.id)}"><code>${delivery.id}</code></a
              >${delivery.test ? html` <span class="muted">test</span>` : ''}
            </td>
            <td><code>${delivery.eventType}</code></td>
            <td>${statusBadge(delivery.status)}</td>
            <td>${delivery.attemptCount}</td>
            <td>${delivery.lastResponseStatus ?? delivery.lastOutcome ?? '—'}</td>
            <td>${when(delivery.publishedAt)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

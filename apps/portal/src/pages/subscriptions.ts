import { matchesEventType } from '@skyhook/subscriptions';
import {
  type DeliveriesListResponse,
  type EventTypesListResponse,
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
      ${eventTypePicker(catalogue, chosen)}
      <div class="actions"><button type="submit">Add endpoint</button></div>
    </form>`;
}

/** A secret shown once: at creation, or after a rotation (with the id its activation needs). */
export interface RevealedSecret {
  readonly secret: string;
  readonly rotated: boolean;
}

export function subscriptionPage(
  subscription: Subscription,
  deliveries: readonly Delivery[],
  catalogue: EventTypesListResponse,
  csrfToken: string,
  revealed?: RevealedSecret,
): Html {
  const id = encodeURIComponent(subscription.id);
  const live = subscription.status === 'active' || subscription.status === 'disabled';
  const action = (path: string, label: string, secondary = false) =>
    html`<form class="inline" method="post" action="/subscriptions/${id}/${path}">
      ${csrfField(csrfToken)}<input type="hidden" name="version" value="${subscription.version}" />
      <button type="submit" ${secondary ? html`class="secondary"` : ''}>${label}</button>
    </form>`;
  // A test of a catalogue type carries the type's example as its data: only types that have one.
  const testTypes = catalogue.data.filter(
    (type) => type.example !== null && matchesEventType(subscription.eventTypes, type.name),
  );
  return html`<h1>Endpoint <code>${subscription.url}</code></h1>
    ${
      revealed === undefined
        ? ''
        : html`<div class="card" role="status">
            <h2>${revealed.rotated ? 'New signing secret' : 'Signing secret'}</h2>
            <p>Shown this once: keep it where your receiver reads it, and verify every webhook with it.</p>
            <pre id="signing-secret">${revealed.secret}</pre>
            ${revealed.rotated ? rotationSteps(subscription) : ''}
          </div>`
    }
    <div class="card">
      <dl>
        <dt>Status</dt>
        <dd>
          ${statusBadge(subscription.status)}
          ${
            subscription.disabledReason === null
              ? ''
              : html` — ${subscription.disabledReason}: ${subscription.disabledDetail ?? ''}`
          }
        </dd>
        <dt>Id</dt>
        <dd><code>${subscription.id}</code></dd>
        <dt>Description</dt>
        <dd>${subscription.description || '—'}</dd>
        <dt>Event types</dt>
        <dd>${subscription.eventTypes.join(', ')}</dd>
        <dt>Delivery profile</dt>
        <dd>${subscription.profile} (signature: ${subscription.effectivePolicy.signature.scheme})</dd>
        <dt>Order</dt>
        <dd>
          ${
            subscription.ordering === null
              ? 'none: deliveries may arrive in any order'
              : html`per <code>${subscription.ordering.key}</code>; after a final failure:
                  ${subscription.ordering.afterFinalFailure === 'hold' ? 'hold the key' : 'skip and go on'}`
          }
        </dd>
        <dt>Rate limit</dt>
        <dd>
          ${subscription.rateLimit === null ? 'none' : `${subscription.rateLimit.perSecond} requests a second`}
        </dd>
        <dt>Expires</dt>
        <dd>${when(subscription.expiresAt)}</dd>
        ${
          subscription.renewalOpensAt === null
            ? ''
            : html`<dt>Renewal</dt>
                <dd id="renewal-window">
                  ${
                    Date.parse(subscription.renewalOpensAt) <= Date.now()
                      ? 'open now: renew before it expires'
                      : html`opens ${when(subscription.renewalOpensAt)}`
                  }
                </dd>`
        }
        <dt>Signing secrets</dt>
        <dd>
          ${subscription.secrets.map(
            (secret) =>
              html`<div>
                <code>${secret.hint}</code> ${secret.phase}${
                  secret.retiresAt === null ? '' : html`, signs until ${when(secret.retiresAt)}`
                }
                ${
                  secret.phase === 'pending' && secret.activatesAt === null
                    ? action(`secrets/${encodeURIComponent(secret.id)}/activate`, 'Activate this secret')
                    : ''
                }
              </div>`,
          )}
        </dd>
      </dl>
      ${
        live
          ? html`<div class="actions">
              <form class="inline" method="post" action="/subscriptions/${id}/test-event">
                ${csrfField(csrfToken)}
                <label for="test-type" class="visually-inline">Test event type</label>
                <select id="test-type" name="type">
                  <option value="">default (a subscribed type with an example, else webhook.test)</option>
                  ${testTypes.map((type) => html`<option value="${type.name}">${type.name}</option>`)}
                </select>
                <button type="submit">Send a test event</button>
              </form>
              ${subscription.status === 'active' ? action('disable', 'Disable', true) : ''}
              ${subscription.status === 'disabled' ? action('enable', 'Enable') : ''}
              ${subscription.expiresAt === null ? '' : action('renew', 'Renew')}
              <a href="/subscriptions/${id}/verify">Verify your endpoint</a>
            </div>`
          : ''
      }
    </div>
    <h2>Recent deliveries</h2>
    ${deliveryTable(deliveries)}
    <p><a href="/deliveries?subscriptionId=${id}">All deliveries to this endpoint</a></p>
    ${live ? manageForms(subscription, catalogue, csrfToken) : ''}`;
}

/** What to do, in order, after a rotation: depends on whether deliveries carry both signatures. */
function rotationSteps(subscription: Subscription): Html {
  const pending = subscription.secrets.some((secret) => secret.phase === 'pending');
  if (pending) {
    return html`<ol>
      <li>
        Deploy your receiver so that it accepts signatures made with this new secret as well as the current
        one.
      </li>
      <li>Press <strong>Activate this secret</strong> below: deliveries are signed with it from then on.</li>
      <li>Once deliveries verify with it, remove the old secret from your receiver.</li>
    </ol>`;
  }
  return subscription.secretsSigning > 1
    ? html`<ol>
        <li>Deliveries now carry a signature with each secret until the old one retires (see below).</li>
        <li>Deploy the new secret to your receiver before then; either signature verifies meanwhile.</li>
      </ol>`
    : html`<ol>
        <li>Deliveries are signed with the new secret now; the old one keeps signing nothing.</li>
        <li>
          Deploy the new secret to your receiver; until then its verification fails and deliveries are
          retried.
        </li>
      </ol>`;
}

function manageForms(subscription: Subscription, catalogue: EventTypesListResponse, csrfToken: string): Html {
  const id = encodeURIComponent(subscription.id);
  const chosen = new Set(subscription.eventTypes);
  const today = new Date().toISOString().slice(0, 10);
  return html`<h2 id="edit">Edit</h2>
    <form class="card" method="post" action="/subscriptions/${id}/edit" aria-labelledby="edit">
      ${csrfField(csrfToken)}<input type="hidden" name="version" value="${subscription.version}" />
      <label for="edit-url">Endpoint URL</label>
      <input id="edit-url" name="url" type="url" required value="${subscription.url}" />
      <label for="edit-description">Description</label>
      <input
        id="edit-description"
        name="description"
        type="text"
        maxlength="500"
        value="${subscription.description}"
      />
      ${eventTypePicker(catalogue, chosen)}
      <div class="actions"><button type="submit">Save</button></div>
    </form>
    <h2 id="pace">Order and pace</h2>
    <form class="card" method="post" action="/subscriptions/${id}/pace" aria-labelledby="pace">
      ${csrfField(csrfToken)}<input type="hidden" name="version" value="${subscription.version}" />
      <label for="pace-ordering-key"
        >Keep deliveries in publish order per (a JSON Pointer into the event, e.g.
        <code>/data/flightId</code>; empty: any order)</label
      >
      <input
        id="pace-ordering-key"
        name="orderingKey"
        type="text"
        maxlength="200"
        value="${subscription.ordering?.key ?? ''}"
      />
      <fieldset>
        <legend>When a delivery of a key fails for good</legend>
        <label
          ><input
            type="radio"
            name="afterFinalFailure"
            value="skip"
            ${subscription.ordering?.afterFinalFailure === 'hold' ? '' : 'checked'}
          />
          Skip it and go on with the key</label
        >
        <label
          ><input
            type="radio"
            name="afterFinalFailure"
            value="hold"
            ${subscription.ordering?.afterFinalFailure === 'hold' ? 'checked' : ''}
          />
          Hold the key until I resend or skip it</label
        >
      </fieldset>
      <label for="pace-rate-limit">At most this many requests a second (empty: no limit)</label>
      <input
        id="pace-rate-limit"
        name="rateLimitPerSecond"
        type="number"
        min="1"
        max="10000"
        step="1"
        value="${subscription.rateLimit === null ? '' : String(subscription.rateLimit.perSecond)}"
      />
      <div class="actions"><button type="submit">Save order and pace</button></div>
    </form>
    <h2 id="rotate">Rotate the signing secret</h2>
    <form class="card" method="post" action="/subscriptions/${id}/rotate" aria-labelledby="rotate">
      ${csrfField(csrfToken)}<input type="hidden" name="version" value="${subscription.version}" />
      <fieldset>
        <legend>When the new secret starts signing</legend>
        <label
          ><input type="radio" name="activation" value="immediate" checked /> Now (the old secret keeps
          signing for the grace period where the scheme carries two signatures)</label
        >
        <label
          ><input type="radio" name="activation" value="manual" /> When I activate it (deploy it to the
          receiver first)</label
        >
      </fieldset>
      <div class="actions"><button type="submit">Rotate</button></div>
    </form>
    <h2 id="replay">Replay a window</h2>
    <form class="card" method="post" action="/subscriptions/${id}/replay" aria-labelledby="replay">
      ${csrfField(csrfToken)}
      <label for="replay-since">From (UTC)</label>
      <input id="replay-since" name="since" type="text" required placeholder="${today}T00:00:00Z" />
      <label for="replay-until">Until (UTC, empty: now)</label>
      <input id="replay-until" name="until" type="text" placeholder="${today}T23:59:59Z" />
      <fieldset>
        <legend>Deliveries that ended</legend>
        ${['failed', 'dropped', 'delivered'].map(
          (status) =>
            html`<label
              ><input
                type="checkbox"
                name="statuses"
                value="${status}"
                ${status === 'failed' ? 'checked' : ''}
              />
              ${status}</label
            >`,
        )}
      </fieldset>
      <div class="actions"><button type="submit">Replay</button></div>
    </form>
    <h2 id="revoke">Revoke</h2>
    <form class="card" method="post" action="/subscriptions/${id}/revoke" aria-labelledby="revoke">
      ${csrfField(csrfToken)}<input type="hidden" name="version" value="${subscription.version}" />
      <p>A revoked endpoint receives nothing more and cannot be enabled again.</p>
      <label
        ><input type="checkbox" name="confirm" value="yes" required /> I want to revoke this endpoint</label
      >
      <div class="actions"><button type="submit" class="secondary">Revoke</button></div>
    </form>`;
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

/** The event-type checkboxes of the create and edit forms: every type, or some of the catalogue. */
function eventTypePicker(catalogue: EventTypesListResponse, chosen: ReadonlySet<string>): Html {
  return html`<fieldset>
    <legend>Event types</legend>
    <label
      ><input type="checkbox" name="eventTypes" value="*" ${chosen.has('*') ? 'checked' : ''} /> Every event
      type of yours (<code>*</code>; Skyhook's own <code>skyhook.*</code> notifications are chosen by
      name)</label
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
  </fieldset>`;
}

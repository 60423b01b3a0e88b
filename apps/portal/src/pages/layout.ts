import { Html, html } from '../html';

export interface Theme {
  readonly brandName: string;
  readonly logoUrl: string | undefined;
  readonly accentColour: string;
}

export interface PageFrame {
  readonly theme: Theme;
  readonly title: string;
  /** The signed-in organisation's name; absent on the sign-in pages. */
  readonly organisationName?: string;
  /** The form token every POST carries (CSRF); absent where there is no form. */
  readonly csrfToken?: string;
  /** Which navigation entry is the current page. */
  readonly current?: 'subscriptions' | 'deliveries' | 'event-types';
  /** A message above the page: what the last action did, or why it did not. */
  readonly notice?: { readonly kind: 'ok' | 'error'; readonly text: string };
  /** Reload the page this often (a replay in progress); no script needed. */
  readonly refreshSeconds?: number;
  /** The organisation's disabled endpoints, named on every page until they are enabled again. */
  readonly disabledEndpoints?: readonly DisabledEndpoint[];
  /** The organisation's latest partner notifications (the last 7 days), as its notification endpoints got them. */
  readonly notifications?: readonly PartnerNotification[];
}

export interface PartnerNotification {
  readonly id: string;
  readonly type: string;
  readonly subscriptionId: string;
  readonly occurredAt: string;
  readonly data: Record<string, unknown>;
}

export interface DisabledEndpoint {
  readonly id: string;
  readonly url: string;
  readonly reason: string | null;
  readonly detail: string | null;
}

/**
 * The stylesheet is inline (one request per page, no build step) and small; colours keep at
 * least 4.5:1 contrast on white. The CSP (portal-http.ts) allows inline styles only; the pages
 * run no script at all. The accent colour is validated as #rrggbb at start-up.
 */
const STYLE = `
:root { --accent: ACCENT; font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; color: #1f2937; }
body { margin: 0; background: #f8fafc; }
header { background: #fff; border-bottom: 1px solid #e5e7eb; padding: .75rem 1.5rem; display: flex; gap: 1.5rem; align-items: center; }
header .brand { font-weight: 700; color: #111827; text-decoration: none; display: flex; gap: .5rem; align-items: center; }
header img { height: 28px; }
nav a { color: #374151; text-decoration: none; padding: .25rem .5rem; border-radius: 4px; }
nav a[aria-current=page] { background: var(--accent); color: #fff; }
nav a:focus, button:focus, input:focus, select:focus, a:focus { outline: 3px solid #f59e0b; outline-offset: 2px; }
header .who { margin-left: auto; display: flex; gap: .75rem; align-items: center; font-size: .9rem; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.5rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; background: #fff; font-size: .9rem; }
th, td { text-align: left; padding: .5rem .6rem; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
th { background: #f1f5f9; font-weight: 600; }
code, pre { font-family: ui-monospace, 'SFMono-Regular', Menlo, monospace; font-size: .85rem; }
pre { background: #0f172a; color: #e2e8f0; padding: .75rem; border-radius: 6px; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
.status { display: inline-block; padding: .1rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; }
.status-delivered, .status-active { background: #dcfce7; color: #14532d; }
.status-waiting { background: #e0e7ff; color: #312e81; }
.status-retrying, .status-held { background: #fef3c7; color: #78350f; }
.status-failed, .status-dropped, .status-disabled, .status-revoked, .status-expired { background: #fee2e2; color: #7f1d1d; }
.notice { padding: .75rem 1rem; border-radius: 6px; margin-bottom: 1rem; }
.notice-ok { background: #dcfce7; color: #14532d; }
.notice-error { background: #fee2e2; color: #7f1d1d; }
.notifications { padding: .5rem 1rem; border-radius: 6px; margin-bottom: 1rem; background: #e0f2fe; color: #0c4a6e; }
.notifications ul { margin: .25rem 0 0; padding-left: 1.25rem; }
.notifications a { color: #0c4a6e; }
form.inline { display: inline; }
button { background: var(--accent); color: #fff; border: 0; border-radius: 6px; padding: .45rem .9rem; font-size: .9rem; cursor: pointer; }
button.secondary { background: #fff; color: #1f2937; border: 1px solid #9ca3af; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
input[type=text], input[type=url], input[type=password], select { width: 100%; max-width: 36rem; padding: .45rem; border: 1px solid #9ca3af; border-radius: 6px; font-size: .95rem; }
fieldset { border: 1px solid #e5e7eb; border-radius: 6px; max-width: 36rem; }
fieldset label { font-weight: 400; display: flex; gap: .5rem; margin: .25rem 0; }
.card { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 1rem 1.25rem; margin-bottom: 1rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .35rem 1rem; margin: 0; }
dt { font-weight: 600; color: #4b5563; }
dd { margin: 0; word-break: break-all; }
.actions { display: flex; gap: .5rem; flex-wrap: wrap; margin: .75rem 0; }
.muted { color: #4b5563; font-size: .85rem; }
.visually-inline { display: inline; margin: 0 .25rem 0 0; }
select { padding: .4rem; border: 1px solid #9ca3af; border-radius: 6px; }
.actions select { width: auto; max-width: 22rem; }
ol li { margin: .25rem 0; }
textarea { width: 100%; max-width: 60rem; font-family: ui-monospace, Menlo, monospace; font-size: .85rem; border: 1px solid #9ca3af; border-radius: 6px; padding: .45rem; }
.check-passed { color: #14532d; }
.check-failed { color: #7f1d1d; }
`;

export function page(frame: PageFrame, content: Html): string {
  const { theme } = frame;
  const navigation: [PageFrame['current'], string, string][] = [
    ['subscriptions', '/subscriptions', 'Subscriptions'],
    ['deliveries', '/deliveries', 'Deliveries'],
    ['event-types', '/event-types', 'Event types'],
  ];
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${frame.title} · ${theme.brandName}</title>
        ${frame.refreshSeconds === undefined ? '' : html`<meta http-equiv="refresh" content="${frame.refreshSeconds}" />`}
        <style>
          ${new Html(STYLE.replace('ACCENT', theme.accentColour))}
        </style>
      </head>
      <body>
        <header>
          <a class="brand" href="/subscriptions"
            >${theme.logoUrl === undefined ? '' : html`<img src="${theme.logoUrl}" alt="" />`}${theme.brandName}
            webhooks</a
          >
          ${
            frame.organisationName === undefined
              ? ''
              : html`<nav aria-label="Portal">
                    ${navigation.map(
                      ([key, href, label]) =>
                        html`<a href="${href}" ${key === frame.current ? html`aria-current="page"` : ''}
                          >${label}</a
                        >`,
                    )}
                  </nav>
                  <div class="who">
                    <span>${frame.organisationName}</span>
                    <form class="inline" method="post" action="/logout">
                      <input type="hidden" name="_csrf" value="${frame.csrfToken ?? ''}" />
                      <button class="secondary" type="submit">Sign out</button>
                    </form>
                  </div>`
          }
        </header>
        <main>
          ${disabledBanner(frame.disabledEndpoints ?? [])}
          ${
            frame.notice === undefined
              ? ''
              : html`<div
                  class="notice notice-${frame.notice.kind}"
                  role="${frame.notice.kind === 'error' ? 'alert' : 'status'}"
                >
                  ${frame.notice.text}
                </div>`
          }
          ${notificationsBanner(frame.notifications ?? [])} ${content}
        </main>
      </body>
    </html> `.text;
}

/**
 * A disabled endpoint receives nothing until someone acts: the partner must not learn it from
 * silence. Named on every page, with the breaker's reason, linking to where it is enabled.
 */
function disabledBanner(disabled: readonly DisabledEndpoint[]): Html | string {
  if (disabled.length === 0) return '';
  return html`<div class="notice notice-error" role="alert" id="disabled-banner">
    <strong
      >${disabled.length === 1 ? 'An endpoint is disabled' : `${disabled.length} endpoints are disabled`}</strong
    >
    and receive no webhooks until enabled again:
    <ul>
      ${disabled.map(
        (endpoint) =>
          html`<li>
            <a href="/subscriptions/${encodeURIComponent(endpoint.id)}">${endpoint.url}</a>${
              endpoint.reason === null
                ? ''
                : html` — ${endpoint.reason}${endpoint.detail === null ? '' : html`: ${endpoint.detail}`}`
            }
          </li>`,
      )}
    </ul>
  </div>`;
}

/**
 * What Skyhook told the organisation lately (ADR 0030): the same notifications its notification
 * endpoints receive, for a partner who has none yet or is looking at the portal anyway.
 */
function notificationsBanner(notifications: readonly PartnerNotification[]): Html | string {
  if (notifications.length === 0) return '';
  return html`<section class="notifications" id="notifications-banner" aria-label="Recent notifications">
    <strong>Recent notifications</strong>
    <ul>
      ${notifications.map(
        (notification) =>
          html`<li>
            <time datetime="${notification.occurredAt}"
              >${notification.occurredAt.slice(0, 16).replace('T', ' ')} UTC</time
            >
            —
            <a href="/subscriptions/${encodeURIComponent(notification.subscriptionId)}"
              >${notificationText(notification)}</a
            >
          </li>`,
      )}
    </ul>
  </section>`;
}

/** One line a partner understands without the docs. */
export function notificationText(notification: PartnerNotification): string {
  const data = notification.data;
  const text = (key: string): string => (typeof data[key] === 'string' ? data[key] : '');
  const endpoint = text('url') || notification.subscriptionId;
  switch (notification.type) {
    case 'skyhook.subscription.disabled':
      return `${endpoint} was disabled (${text('reason')}${text('detail') === '' ? '' : `: ${text('detail')}`})`;
    case 'skyhook.subscription.expiring':
      return `${endpoint} expires at ${text('expiresAt')}; renewal opens at ${text('renewalOpensAt')}`;
    case 'skyhook.subscription.renewal_window_opened':
      return `${endpoint} can be renewed now (it expires at ${text('expiresAt')})`;
    case 'skyhook.subscription.expired':
      return `${endpoint} expired and receives nothing more`;
    case 'skyhook.delivery.failed':
      return `a ${text('eventType')} delivery to ${endpoint} failed for good`;
    case 'skyhook.replay.completed':
      return `replay ${text('replayId')} ${text('state') === 'failed' ? `stopped: ${text('failedReason')}` : `finished (${String(data['enqueued'])} queued again)`}`;
    default:
      return notification.type;
  }
}

/** The form token, as every form carries it. */
export function csrfField(token: string | undefined): Html {
  return html`<input type="hidden" name="_csrf" value="${token ?? ''}" />`;
}

export function statusBadge(status: string): Html {
  return html`<span class="status status-${status}">${status}</span>`;
}

export function when(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return '—';
  return iso.replace('T', ' ').replace(/\.\d{3}Z$/, ' UTC');
}

import { Controller, Get, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { type FastifyReply, type FastifyRequest } from 'fastify';
import {
  type Client,
  deliveriesGet,
  deliveriesList,
  deliveriesResend,
  deliveriesSkip,
  eventTypesList,
  portalSessionsCreate,
  partnerNotificationsList,
  portalSessionsCurrent,
  portalSessionsEnd,
  portalSessionsOpen,
  replaysGet,
  replaysStart,
  SkyhookApiError,
  skyhookApi,
  subscriptionDeliveriesList,
  subscriptionsCreate,
  subscriptionsDisable,
  subscriptionsEnable,
  subscriptionsActivateSecret,
  subscriptionsGet,
  subscriptionsList,
  subscriptionsRenew,
  subscriptionsRevoke,
  subscriptionsRotateSecret,
  subscriptionsSendTestEvent,
  subscriptionsUpdate,
  type SubscriptionsUpdateData,
} from '@skyhook/api-client';
import { portalTokenKindOf } from '@skyhook/secrets';
import { checkWebhookSignature } from '@skyhook/webhook-signing';
import { type Html } from './html';
import { deliveriesPage, deliveryPage, DELIVERY_STATUS_FILTERS, replayPage } from './pages/deliveries';
import { messagePage, signInPage } from './pages/entry';
import { eventTypesPage } from './pages/event-types';
import { verifyPage } from './pages/verify';
import { page, type PageFrame, type Theme } from './pages/layout';
import { type SubscriptionForm, subscriptionPage, subscriptionsPage } from './pages/subscriptions';
import { cookieOptions, NOTICE_COOKIE, SESSION_COOKIE } from './portal-http';
import { PORTAL_CONFIG, type PortalConfig } from './portal.config';

type Notice = NonNullable<PageFrame['notice']>;

/** A signed-in request: the api client acting with its session, and its organisation's name. */
interface Signed {
  readonly client: Client;
  readonly organisationName: string;
}

/** Thrown inside a page's handler to answer with a redirect (after a post), its notice shown next. */
class Redirect extends Error {
  constructor(
    readonly location: string,
    readonly notice?: Notice,
  ) {
    super(`redirect to ${location}`);
  }
}

const csrfTokens = new WeakMap<FastifyReply, string>();

/**
 * One form token per response: on a first visit there is no secret cookie yet, and every
 * `generateCsrf` call would make (and set) a new secret, leaving the forms rendered before the
 * last call with tokens of a secret the browser never keeps.
 */
function csrfTokenFor(reply: FastifyReply): string {
  let token = csrfTokens.get(reply);
  if (token === undefined) {
    token = reply.generateCsrf();
    csrfTokens.set(reply, token);
  }
  return token;
}

function formValues(body: unknown, name: string): string[] {
  const value = (body as Record<string, unknown> | undefined)?.[name];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === 'string');
  return typeof value === 'string' ? [value] : [];
}

function formValue(body: unknown, name: string): string | undefined {
  return formValues(body, name)[0];
}

/**
 * The partner portal (ADR 0029): server-rendered pages that act through the api with the
 * partner's portal session, so the api's own checks (organisation scope, validation, state
 * transitions) are the portal's. The session token lives in an HttpOnly cookie; every POST is
 * CSRF-checked before it reaches a handler (portal-http.ts).
 */
@Controller()
export class PortalController {
  private readonly theme: Theme;

  constructor(@Inject(PORTAL_CONFIG) private readonly config: PortalConfig) {
    this.theme = {
      brandName: config.PORTAL_BRAND_NAME,
      logoUrl: config.PORTAL_LOGO_URL,
      accentColour: config.PORTAL_ACCENT_COLOUR,
    };
  }

  @Get()
  root(@Res() reply: FastifyReply): void {
    void reply.redirect('/subscriptions', 303);
  }

  @Get('enter')
  async enter(@Query('token') token: unknown, @Res() reply: FastifyReply): Promise<void> {
    const refused = () =>
      this.send(
        reply,
        401,
        { title: 'Link not valid' },
        messagePage(
          'This link cannot be opened',
          'It has expired or was already used. Ask your organisation for a new portal link.',
        ),
      );
    // Anything not shaped like a link token (a truncated copy, a hostile query) is refused here,
    // before it reaches a header.
    if (typeof token !== 'string' || portalTokenKindOf(token) !== 'link') {
      refused();
      return;
    }
    await this.answerRefusals(reply, refused, () => this.openSession(reply, token));
  }

  @Get('login')
  login(@Query('expired') expired: string | undefined, @Res() reply: FastifyReply): void {
    const reason = expired === undefined ? undefined : 'Your session has ended: sign in again.';
    this.send(reply, 200, { title: 'Sign in' }, signInPage(csrfTokenFor(reply), reason));
  }

  /** Signs in with an API key by minting a one-minute link with it and opening that: one kind of session. */
  @Post('login')
  async signIn(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const apiKey = formValue(request.body, 'apiKey')?.trim() ?? '';
    const refused = () =>
      this.send(
        reply,
        401,
        { title: 'Sign in' },
        signInPage(csrfTokenFor(reply), 'That API key was not accepted.'),
      );
    // A key is printable ASCII without spaces; anything else could not be one (nor be sent).
    if (!/^[\x21-\x7e]{1,200}$/.test(apiKey)) {
      refused();
      return;
    }
    await this.answerRefusals(reply, refused, async () => {
      const { data: link } = await portalSessionsCreate({
        client: this.apiClient(apiKey),
        throwOnError: true,
        body: { linkLifetimeMinutes: 1 },
      });
      await this.openSession(reply, new URL(link.url).searchParams.get('token') ?? '');
    });
  }

  @Post('logout')
  async signOut(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const token = request.cookies[SESSION_COOKIE];
    if (token !== undefined) {
      await portalSessionsEnd({ client: this.apiClient(token), throwOnError: true }).catch(() => undefined);
    }
    void reply.clearCookie(SESSION_COOKIE, { path: '/' });
    void reply.redirect('/login', 303);
  }

  @Get('subscriptions')
  subscriptions(
    @Query('cursor') cursor: string | undefined,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.signedIn(request, reply, async ({ client }) => {
      const [list, catalogue] = await Promise.all([
        subscriptionsList({ client, throwOnError: true, query: { limit: 50, cursor } }),
        eventTypesList({ client, throwOnError: true }),
      ]);
      return {
        title: 'Subscriptions',
        current: 'subscriptions',
        content: subscriptionsPage(list.data, catalogue.data, csrfTokenFor(reply)),
      };
    });
  }

  @Post('subscriptions')
  createSubscription(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.signedIn(request, reply, async ({ client }) => {
      const form: SubscriptionForm = {
        url: formValue(request.body, 'url')?.trim() ?? '',
        description: formValue(request.body, 'description') ?? '',
        eventTypes: formValues(request.body, 'eventTypes'),
      };
      try {
        const { data: created } = await subscriptionsCreate({
          client,
          throwOnError: true,
          body: {
            url: form.url ?? '',
            description: form.description,
            eventTypes: [...(form.eventTypes ?? [])],
          },
        });
        const { data: catalogue } = await eventTypesList({ client, throwOnError: true });
        return {
          title: 'Endpoint added',
          current: 'subscriptions',
          notice: { kind: 'ok', text: 'Endpoint added. Send it a test event to see a delivery.' },
          content: subscriptionPage(created, [], catalogue, csrfTokenFor(reply), {
            secret: created.signingSecret,
            rotated: false,
          }),
        };
      } catch (error) {
        if (
          !(error instanceof SkyhookApiError) ||
          error.status === undefined ||
          error.status >= 500 ||
          error.status === 401
        ) {
          throw error;
        }
        const [list, catalogue] = await Promise.all([
          subscriptionsList({ client, throwOnError: true, query: { limit: 50 } }),
          eventTypesList({ client, throwOnError: true }),
        ]);
        return {
          title: 'Subscriptions',
          current: 'subscriptions',
          status: 400,
          notice: { kind: 'error', text: `The endpoint was not added: ${readable(error)}` },
          content: subscriptionsPage(list.data, catalogue.data, csrfTokenFor(reply), form),
        };
      }
    });
  }

  @Get('subscriptions/:id')
  subscription(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.signedIn(request, reply, async ({ client }) => {
      const [subscription, deliveries, catalogue] = await Promise.all([
        subscriptionsGet({ client, throwOnError: true, path: { id } }),
        subscriptionDeliveriesList({ client, throwOnError: true, path: { id }, query: { limit: 20 } }),
        eventTypesList({ client, throwOnError: true }),
      ]);
      return {
        title: subscription.data.url,
        current: 'subscriptions',
        content: subscriptionPage(
          subscription.data,
          deliveries.data.data,
          catalogue.data,
          csrfTokenFor(reply),
        ),
      };
    });
  }

  @Post('subscriptions/:id/:action')
  subscriptionAction(
    @Param('id') id: string,
    @Param('action') action: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.signedIn(request, reply, async ({ client }) => {
      const back = `/subscriptions/${encodeURIComponent(id)}`;
      const body = request.body;
      // The version the form was rendered from: a change made meanwhile (elsewhere) is a 409, not lost.
      const ifMatch = { 'If-Match': `"${formValue(body, 'version') ?? ''}"` };
      const update = (changes: SubscriptionsUpdateData['body']): Promise<unknown> =>
        subscriptionsUpdate({ client, throwOnError: true, path: { id }, headers: ifMatch, body: changes });
      try {
        switch (action) {
          case 'test-event': {
            const type = formValue(body, 'type');
            const { data } = await subscriptionsSendTestEvent({
              client,
              throwOnError: true,
              path: { id },
              body: type === undefined || type === '' ? {} : { type },
            });
            throw new Redirect(back, { kind: 'ok', text: `Test event ${data.eventId} (${data.type}) sent.` });
          }
          case 'disable':
            await subscriptionsDisable({ client, throwOnError: true, path: { id } });
            throw new Redirect(back, {
              kind: 'ok',
              text: 'Endpoint disabled: no deliveries until it is enabled.',
            });
          case 'enable':
            await subscriptionsEnable({ client, throwOnError: true, path: { id } });
            throw new Redirect(back, { kind: 'ok', text: 'Endpoint enabled.' });
          case 'edit':
            await update({
              url: formValue(body, 'url')?.trim() ?? '',
              description: formValue(body, 'description') ?? '',
              eventTypes: formValues(body, 'eventTypes'),
            });
            throw new Redirect(back, { kind: 'ok', text: 'Saved.' });
          case 'pace': {
            // Empty fields remove the setting; what the api refuses (a key that is not a JSON
            // Pointer, a limit out of range) comes back as its notice.
            const orderingKey = formValue(body, 'orderingKey')?.trim() ?? '';
            const perSecond = formValue(body, 'rateLimitPerSecond')?.trim() ?? '';
            await update({
              ordering:
                orderingKey === ''
                  ? null
                  : {
                      key: orderingKey,
                      afterFinalFailure: formValue(body, 'afterFinalFailure') === 'hold' ? 'hold' : 'skip',
                    },
              rateLimit: perSecond === '' ? null : { perSecond: Number(perSecond) },
            });
            throw new Redirect(back, { kind: 'ok', text: 'Order and pace saved.' });
          }
          case 'renew': {
            const { data } = await subscriptionsRenew({
              client,
              throwOnError: true,
              path: { id },
              headers: ifMatch,
            });
            throw new Redirect(back, { kind: 'ok', text: `Renewed: expires ${data.expiresAt ?? 'never'}.` });
          }
          case 'revoke':
            if (formValue(body, 'confirm') !== 'yes') {
              throw new Redirect(back, { kind: 'error', text: 'Tick the box to confirm the revocation.' });
            }
            await subscriptionsRevoke({ client, throwOnError: true, path: { id }, headers: ifMatch });
            throw new Redirect(back, { kind: 'ok', text: 'Endpoint revoked.' });
          case 'rotate': {
            const activation = formValue(body, 'activation') === 'manual' ? 'manual' : 'immediate';
            const { data: rotated } = await subscriptionsRotateSecret({
              client,
              throwOnError: true,
              path: { id },
              headers: ifMatch,
              body: { activation },
            });
            const [deliveries, catalogue] = await Promise.all([
              subscriptionDeliveriesList({ client, throwOnError: true, path: { id }, query: { limit: 20 } }),
              eventTypesList({ client, throwOnError: true }),
            ]);
            return {
              title: rotated.url,
              current: 'subscriptions',
              notice: { kind: 'ok', text: 'Secret rotated: follow the steps below.' },
              content: subscriptionPage(rotated, deliveries.data.data, catalogue.data, csrfTokenFor(reply), {
                secret: rotated.signingSecret,
                rotated: true,
              }),
            };
          }
          case 'replay': {
            const statuses = formValues(body, 'statuses').filter(
              (status): status is 'failed' | 'dropped' | 'delivered' =>
                ['failed', 'dropped', 'delivered'].includes(status),
            );
            const until = formValue(body, 'until')?.trim();
            const { data: job } = await replaysStart({
              client,
              throwOnError: true,
              path: { id },
              body: {
                since: formValue(body, 'since')?.trim() ?? '',
                ...(until === undefined || until === '' ? {} : { until }),
                ...(statuses.length === 0 ? {} : { statuses }),
              },
            });
            throw new Redirect(`${back}/replays/${encodeURIComponent(job.id)}`);
          }
          default:
            throw new Redirect(back, { kind: 'error', text: `Unknown action ${action}.` });
        }
      } catch (error) {
        throw refusalAsNotice(error, back);
      }
    });
  }

  @Get('subscriptions/:id/verify')
  verify(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.signedIn(request, reply, async ({ client }) => {
      const { data: subscription } = await subscriptionsGet({ client, throwOnError: true, path: { id } });
      return {
        title: 'Verify your endpoint',
        current: 'subscriptions',
        content: verifyPage(subscription, csrfTokenFor(reply)),
      };
    });
  }

  /**
   * The signature debugger: the pasted request checked as a receiver would, with the secret the
   * partner pasted (never stored, never shown back). Line breaks become \n: a browser sends a
   * textarea's as \r\n, and Skyhook's bodies hold none of their own.
   */
  @Post('subscriptions/:id/verify')
  debugSignature(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.signedIn(request, reply, async ({ client }) => {
      const { data: subscription } = await subscriptionsGet({ client, throwOnError: true, path: { id } });
      const pasted = {
        headers: (formValue(request.body, 'headers') ?? '').replace(/\r\n/g, '\n'),
        body: (formValue(request.body, 'body') ?? '').replace(/\r\n/g, '\n'),
      };
      const headers = Object.fromEntries(
        pasted.headers
          .split('\n')
          .map((line) => /^\s*([^:\s]+)\s*:\s*(.*)$/.exec(line))
          .filter((match) => match !== null)
          .map((match) => [match[1]!, match[2]!.trim()]),
      );
      const result = checkWebhookSignature({
        signature: subscription.effectivePolicy.signature,
        secret: formValue(request.body, 'secret') ?? '',
        headers,
        body: Buffer.from(pasted.body, 'utf8'),
        nowSeconds: Math.floor(Date.now() / 1_000),
      });
      return {
        title: 'Verify your endpoint',
        current: 'subscriptions',
        content: verifyPage(subscription, csrfTokenFor(reply), pasted, result),
      };
    });
  }

  @Post('subscriptions/:id/secrets/:secretId/activate')
  activateSecret(
    @Param('id') id: string,
    @Param('secretId') secretId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.signedIn(request, reply, async ({ client }) => {
      const back = `/subscriptions/${encodeURIComponent(id)}`;
      try {
        await subscriptionsActivateSecret({
          client,
          throwOnError: true,
          path: { id, secretId },
          headers: { 'If-Match': `"${formValue(request.body, 'version') ?? ''}"` },
          body: {},
        });
      } catch (error) {
        throw refusalAsNotice(error, back);
      }
      throw new Redirect(back, { kind: 'ok', text: 'The new secret signs deliveries from now on.' });
    });
  }

  @Get('subscriptions/:id/replays/:jobId')
  replay(
    @Param('id') id: string,
    @Param('jobId') jobId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.signedIn(request, reply, async ({ client }) => {
      const { data: job } = await replaysGet({ client, throwOnError: true, path: { id, jobId } });
      return {
        title: `Replay ${job.id}`,
        current: 'subscriptions',
        content: replayPage(job),
        ...(job.state === 'running' ? { refreshSeconds: 2 } : {}),
      };
    });
  }

  @Get('deliveries')
  deliveries(
    @Query() query: Record<string, unknown>,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.signedIn(request, reply, async ({ client }) => {
      const text = (name: string) =>
        typeof query[name] === 'string' && query[name] !== '' ? query[name] : undefined;
      const statusFilter = text('status');
      const filters = {
        status: (DELIVERY_STATUS_FILTERS as readonly string[]).includes(statusFilter ?? '')
          ? statusFilter
          : undefined,
        eventType: text('eventType'),
        subscriptionId: text('subscriptionId'),
      };
      const cursor = text('cursor');
      const listQuery = { limit: 50, cursor, status: filters.status, eventType: filters.eventType };
      const { data } =
        filters.subscriptionId === undefined
          ? await deliveriesList({ client, throwOnError: true, query: listQuery })
          : await subscriptionDeliveriesList({
              client,
              throwOnError: true,
              path: { id: filters.subscriptionId },
              query: listQuery,
            });
      return { title: 'Deliveries', current: 'deliveries', content: deliveriesPage(data, filters) };
    });
  }

  @Get('deliveries/:id')
  delivery(
    @Param('id') id: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    return this.signedIn(request, reply, async ({ client }) => {
      const { data } = await deliveriesGet({ client, throwOnError: true, path: { id } });
      return {
        title: `Delivery ${id}`,
        current: 'deliveries',
        content: deliveryPage(data, csrfTokenFor(reply)),
      };
    });
  }

  @Post('deliveries/:id/resend')
  resend(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.signedIn(request, reply, async ({ client }) => {
      const back = `/deliveries/${encodeURIComponent(id)}`;
      try {
        const { data } = await deliveriesResend({ client, throwOnError: true, path: { id } });
        throw new Redirect(back, { kind: 'ok', text: `Resent as attempt ${data.attemptNumber}.` });
      } catch (error) {
        throw refusalAsNotice(error, back);
      }
    });
  }

  /** A held key of an ordered subscription goes on without this delivery (ADR 0031). */
  @Post('deliveries/:id/skip')
  skip(@Param('id') id: string, @Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.signedIn(request, reply, async ({ client }) => {
      const back = `/deliveries/${encodeURIComponent(id)}`;
      try {
        const { data } = await deliveriesSkip({ client, throwOnError: true, path: { id } });
        throw new Redirect(back, {
          kind: 'ok',
          text: `Skipped: key ${JSON.stringify(data.orderingKey)} goes on with its next delivery.`,
        });
      } catch (error) {
        throw refusalAsNotice(error, back);
      }
    });
  }

  @Get('event-types')
  eventTypes(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    return this.signedIn(request, reply, async ({ client }) => {
      const { data } = await eventTypesList({ client, throwOnError: true });
      return { title: 'Event types', current: 'event-types', content: eventTypesPage(data) };
    });
  }

  private apiClient(credential: string): Client {
    return skyhookApi({ baseUrl: this.config.SKYHOOK_API_URL, credential, timeoutMs: 15_000 });
  }

  /** Opens a portal link into a session, kept in the cookie, and lands on the subscriptions. */
  private async openSession(reply: FastifyReply, linkToken: string): Promise<void> {
    const { data } = await portalSessionsOpen({ client: this.apiClient(linkToken), throwOnError: true });
    void reply.setCookie(SESSION_COOKIE, data.sessionToken, {
      ...cookieOptions(this.config),
      expires: new Date(data.expiresAt),
    });
    void reply.redirect('/subscriptions', 303);
  }

  /** Runs a sign-in step: the api's 401 answers `refused`, the api down the 503 page. */
  private async answerRefusals(
    reply: FastifyReply,
    refused: () => void,
    step: () => Promise<void>,
  ): Promise<void> {
    try {
      await step();
    } catch (error) {
      if (isUnavailable(error)) this.unavailable(reply);
      else if (error instanceof SkyhookApiError && error.status === 401) refused();
      else throw error;
    }
  }

  /**
   * Runs a page with the request's session: no session, or one the api no longer accepts, goes to
   * sign-in; what the api says is not there (another organisation's id too) is a 404 page; a
   * Redirect goes where it says with its notice shown on the next page.
   */
  private async signedIn(
    request: FastifyRequest,
    reply: FastifyReply,
    render: (signed: Signed) => Promise<{
      title: string;
      current: PageFrame['current'];
      content: Html;
      notice?: Notice;
      status?: number;
      refreshSeconds?: number;
    }>,
  ): Promise<void> {
    const token = request.cookies[SESSION_COOKIE];
    if (token === undefined || portalTokenKindOf(token) !== 'session') {
      void reply.redirect('/login', 303);
      return;
    }
    const client = this.apiClient(token);
    try {
      // Asked together: the session (and its organisation's name), the disabled endpoints and the
      // recent notifications the banners name; the page's own calls follow.
      const [{ data: session }, { data: disabled }, { data: notifications }] = await Promise.all([
        portalSessionsCurrent({ client, throwOnError: true }),
        subscriptionsList({ client, throwOnError: true, query: { status: 'disabled', limit: 10 } }),
        partnerNotificationsList({ client, throwOnError: true, query: { limit: 5 } }),
      ]);
      const rendered = await render({ client, organisationName: session.organisation.name });
      const notice = rendered.notice ?? this.takeNotice(request, reply);
      this.send(
        reply,
        rendered.status ?? 200,
        {
          title: rendered.title,
          current: rendered.current,
          organisationName: session.organisation.name,
          csrfToken: csrfTokenFor(reply),
          notice,
          disabledEndpoints: disabled.data.map((endpoint) => ({
            id: endpoint.id,
            url: endpoint.url,
            reason: endpoint.disabledReason,
            detail: endpoint.disabledDetail,
          })),
          notifications: notifications.data,
          ...(rendered.refreshSeconds === undefined ? {} : { refreshSeconds: rendered.refreshSeconds }),
        },
        rendered.content,
      );
    } catch (error) {
      if (error instanceof Redirect) {
        if (error.notice !== undefined) {
          void reply.setCookie(NOTICE_COOKIE, JSON.stringify(error.notice), {
            ...cookieOptions(this.config),
            maxAge: 60,
          });
        }
        void reply.redirect(error.location, 303);
        return;
      }
      if (error instanceof SkyhookApiError && error.status === 401) {
        void reply.clearCookie(SESSION_COOKIE, { path: '/' });
        void reply.redirect('/login?expired=1', 303);
        return;
      }
      if (error instanceof SkyhookApiError && error.status === 404) {
        this.send(
          reply,
          404,
          { title: 'Not found' },
          messagePage('Not found', 'There is nothing here for your organisation.'),
        );
        return;
      }
      if (isUnavailable(error)) {
        this.unavailable(reply);
        return;
      }
      throw error;
    }
  }

  /** The api unreachable or unavailable (its database, its broker): say so, and that it passes. */
  private unavailable(reply: FastifyReply): void {
    void reply.header('retry-after', '5');
    this.send(
      reply,
      503,
      { title: 'Unavailable' },
      messagePage(
        'Temporarily unavailable',
        'Skyhook cannot answer this page right now. Try again in a few seconds.',
      ),
    );
  }

  private takeNotice(request: FastifyRequest, reply: FastifyReply): Notice | undefined {
    const stored = request.cookies[NOTICE_COOKIE];
    if (stored === undefined) return undefined;
    void reply.clearCookie(NOTICE_COOKIE, { path: '/' });
    try {
      const parsed = JSON.parse(stored) as Partial<Notice>;
      if ((parsed.kind === 'ok' || parsed.kind === 'error') && typeof parsed.text === 'string') {
        return { kind: parsed.kind, text: parsed.text.slice(0, 500) };
      }
    } catch {
      // A cookie we did not write: ignored.
    }
    return undefined;
  }

  private send(reply: FastifyReply, status: number, frame: Omit<PageFrame, 'theme'>, content: Html): void {
    void reply
      .status(status)
      .type('text/html; charset=utf-8')
      .send(page({ ...frame, theme: this.theme }, content));
  }
}

/**
 * What the api refused (bad input, a stale version, a transition not allowed now — a renewal
 * before its window says when it opens) goes back to the page as a notice; anything else
 * (a Redirect, the api unreachable, a lost session) goes on as it is.
 */
function refusalAsNotice(error: unknown, back: string): unknown {
  if (
    error instanceof SkyhookApiError &&
    error.status !== undefined &&
    [400, 409, 422].includes(error.status)
  ) {
    return new Redirect(back, { kind: 'error', text: readable(error) });
  }
  return error;
}

function isUnavailable(error: unknown): boolean {
  return error instanceof SkyhookApiError && (error.status === undefined || error.status >= 500);
}

/** The api's refusal in words a partner reads: its message (which names each failing field). */
function readable(error: SkyhookApiError): string {
  return error.detail.replace(/^[A-Z_]+: /, '');
}

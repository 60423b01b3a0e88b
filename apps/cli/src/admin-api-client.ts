import { CliError } from './cli-error';
import { type ApiSettings } from './cli-settings';

export interface IssuedApiKey {
  readonly id: string;
  readonly apiKey: string;
}

export interface CreatedOrganisation extends IssuedApiKey {
  readonly organisation: { readonly id: string; readonly name: string } & Record<string, unknown>;
}

export interface AdminSubscription {
  readonly id: string;
  readonly organisationId: string;
  readonly url: string;
  readonly status: string;
  readonly disabledReason: string | null;
  readonly disabledDetail: string | null;
  readonly version: number;
  readonly updatedAt: string;
}

export interface ReplayJob {
  readonly id: string;
  readonly subscriptionId: string;
  readonly state: string;
  readonly since: string;
  readonly until: string;
  readonly statuses: readonly string[];
  readonly matched: number;
  readonly enqueued: number;
  readonly error: string | null;
  readonly createdAt: string;
  readonly finishedAt: string | null;
}

export interface OrganisationCreation {
  readonly name: string;
  readonly subscriptionLifetimeDays?: number;
  readonly renewalWindowDays?: number;
}

export interface ReplayRequest {
  readonly organisationId: string;
  readonly subscriptionId: string;
  readonly since: string;
  readonly until?: string;
  readonly statuses?: readonly string[];
}

/** Walks every page; the api caps a page at 100 rows. */
const PAGE_SIZE = 100;

/** The api's admin REST API (bearer SKYHOOK_ADMIN_TOKEN); every failure becomes one legible CliError. */
export class AdminApiClient {
  constructor(
    private readonly settings: ApiSettings,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  createOrganisation(creation: OrganisationCreation): Promise<CreatedOrganisation> {
    return this.call<CreatedOrganisation>('POST', '/admin/v1/organisations', creation);
  }

  createApiKey(organisationId: string, label: string): Promise<IssuedApiKey> {
    return this.call<IssuedApiKey>(
      'POST',
      `/admin/v1/organisations/${encodeURIComponent(organisationId)}/api-keys`,
      {
        label,
      },
    );
  }

  async listDisabledSubscriptions(organisationId?: string): Promise<AdminSubscription[]> {
    const found: AdminSubscription[] = [];
    let cursor: string | null = null;
    do {
      const query = new URLSearchParams({ status: 'disabled', limit: String(PAGE_SIZE) });
      if (organisationId !== undefined) query.set('organisationId', organisationId);
      if (cursor !== null) query.set('cursor', cursor);
      const page: { data: AdminSubscription[]; nextCursor: string | null } = await this.call(
        'GET',
        `/admin/v1/subscriptions?${query.toString()}`,
      );
      found.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor !== null);
    return found;
  }

  enableSubscription(subscriptionId: string): Promise<AdminSubscription> {
    return this.call<AdminSubscription>(
      'POST',
      `/admin/v1/subscriptions/${encodeURIComponent(subscriptionId)}/enable`,
    );
  }

  startReplay(request: ReplayRequest): Promise<ReplayJob> {
    const { organisationId, subscriptionId, ...body } = request;
    return this.call<ReplayJob>(
      'POST',
      `${this.subscriptionPath(organisationId, subscriptionId)}/replay`,
      body,
    );
  }

  replayJob(organisationId: string, subscriptionId: string, jobId: string): Promise<ReplayJob> {
    return this.call<ReplayJob>(
      'GET',
      `${this.subscriptionPath(organisationId, subscriptionId)}/replays/${encodeURIComponent(jobId)}`,
    );
  }

  private subscriptionPath(organisationId: string, subscriptionId: string): string {
    return `/admin/v1/organisations/${encodeURIComponent(organisationId)}/subscriptions/${encodeURIComponent(subscriptionId)}`;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const url = `${this.settings.apiUrl}${path}`;
    let response: Response;
    try {
      response = await this.fetchImpl(url, {
        method,
        headers: {
          authorization: `Bearer ${this.settings.adminToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new CliError(`cannot reach the api at ${this.settings.apiUrl}: ${reasonOf(error)}`);
    }
    const text = await response.text();
    if (!response.ok) throw new CliError(apiFailureOf(method, path, response.status, text));
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(`the api answered ${method} ${path} with a body that is not JSON`);
    }
  }
}

/** "401 UNAUTHENTICATED: missing or invalid admin token", from the api's `{ error: { code, message } }`. */
export function apiFailureOf(method: string, path: string, status: number, body: string): string {
  let detail = body.slice(0, 200);
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (typeof parsed.error?.message === 'string') {
      detail = `${typeof parsed.error.code === 'string' ? `${parsed.error.code}: ` : ''}${parsed.error.message}`;
    }
  } catch {
    // Not the api's error body (a proxy's page, say): the start of the text says enough.
  }
  const hint = status === 401 ? ' (check SKYHOOK_ADMIN_TOKEN)' : '';
  return `${method} ${path.split('?')[0] ?? path} failed with ${status}${hint}: ${detail.replace(/\s+/g, ' ').trim()}`;
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause;
    if (cause instanceof Error)
      return 'code' in cause && typeof cause.code === 'string' ? cause.code : cause.message;
    return error.name === 'TimeoutError' ? 'no answer within 30 s' : error.message;
  }
  return String(error);
}

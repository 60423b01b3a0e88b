import {
  adminOrganisationsCreate,
  adminOrganisationsCreateApiKey,
  type AdminOrganisationsCreateApiKeyResponse,
  type AdminOrganisationsCreateData,
  type AdminOrganisationsCreateResponse,
  adminReplaysGet,
  adminReplaysStart,
  type AdminReplaysStartData,
  type AdminReplaysStartResponse,
  adminSubscriptionsEnable,
  adminSubscriptionsList,
  type AdminSubscriptionsListResponse,
  type Client,
  SkyhookApiError,
  skyhookApi,
} from '@skyhook/api-client';
import { CliError } from './cli-error';
import { type ApiSettings } from './cli-settings';

export type CreatedOrganisation = AdminOrganisationsCreateResponse;
export type IssuedApiKey = AdminOrganisationsCreateApiKeyResponse;
export type AdminSubscription = AdminSubscriptionsListResponse['data'][number];
export type ReplayJob = AdminReplaysStartResponse;
export type OrganisationCreation = AdminOrganisationsCreateData['body'];

export type ReplayRequest = AdminReplaysStartData['body'] & {
  readonly organisationId: string;
  readonly subscriptionId: string;
};

/** Walks every page; the api caps a page at 100 rows. */
const PAGE_SIZE = 100;

/**
 * The api's admin REST API (bearer SKYHOOK_ADMIN_TOKEN) through the generated client
 * (@skyhook/api-client); every failure becomes one legible CliError.
 */
export class AdminApiClient {
  private readonly client: Client;

  constructor(settings: ApiSettings, fetchImpl: typeof fetch = fetch) {
    this.client = skyhookApi({ baseUrl: settings.apiUrl, credential: settings.adminToken, fetch: fetchImpl });
  }

  createOrganisation(creation: OrganisationCreation): Promise<CreatedOrganisation> {
    return dataOf(adminOrganisationsCreate({ client: this.client, throwOnError: true, body: creation }));
  }

  createApiKey(organisationId: string, label: string): Promise<IssuedApiKey> {
    return dataOf(
      adminOrganisationsCreateApiKey({
        client: this.client,
        throwOnError: true,
        path: { id: organisationId },
        body: { label },
      }),
    );
  }

  async listDisabledSubscriptions(organisationId?: string): Promise<AdminSubscription[]> {
    const found: AdminSubscription[] = [];
    let cursor: string | undefined;
    do {
      const page = await dataOf(
        adminSubscriptionsList({
          client: this.client,
          throwOnError: true,
          query: { status: 'disabled', limit: PAGE_SIZE, organisationId, cursor },
        }),
      );
      found.push(...page.data);
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    return found;
  }

  enableSubscription(subscriptionId: string): Promise<AdminSubscription> {
    return dataOf(
      adminSubscriptionsEnable({ client: this.client, throwOnError: true, path: { id: subscriptionId } }),
    );
  }

  startReplay(request: ReplayRequest): Promise<ReplayJob> {
    const { organisationId, subscriptionId, ...body } = request;
    return dataOf(
      adminReplaysStart({
        client: this.client,
        throwOnError: true,
        path: { organisationId, id: subscriptionId },
        body,
      }),
    );
  }

  replayJob(organisationId: string, subscriptionId: string, jobId: string): Promise<ReplayJob> {
    return dataOf(
      adminReplaysGet({
        client: this.client,
        throwOnError: true,
        path: { organisationId, id: subscriptionId, jobId },
      }),
    );
  }
}

async function dataOf<T>(call: Promise<{ data: T }>): Promise<T> {
  try {
    return (await call).data;
  } catch (error) {
    throw cliErrorOf(error);
  }
}

/** "POST /admin/v1/… failed with 401 (check SKYHOOK_ADMIN_TOKEN): UNAUTHENTICATED: …". */
function cliErrorOf(error: unknown): unknown {
  if (!(error instanceof SkyhookApiError)) return error;
  if (error.status === undefined || error.status < 400) return new CliError(error.message);
  const hint = error.status === 401 ? ' (check SKYHOOK_ADMIN_TOKEN)' : '';
  return new CliError(`${error.method} ${error.path} failed with ${error.status}${hint}: ${error.detail}`);
}

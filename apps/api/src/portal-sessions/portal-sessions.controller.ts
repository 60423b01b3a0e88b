import {
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  Inject,
  Param,
  Post,
  UseGuards,
} from '@nestjs/common';
import { API_CONFIG, type ApiConfig } from '../api.config';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { ApiError, ApiErrorCode } from '../http/api-error';
import { ApiKeyGuard, bearerTokenOf } from '../http/api-key.guard';
import { type Credential, CurrentCredential, CurrentOrganisation } from '../http/organisation-context';
import { PortalLinkGuard } from '../http/portal-link.guard';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { type Organisation, OrganisationRepository } from '../organisations/organisation.repository';
import { BAD_INPUT } from '../openapi/examples';
import { Documented, DocumentedGroup } from '../openapi/route-docs';
import { PortalSessionRepository } from './portal-session.repository';
import {
  currentPortalSessionResponseSchema,
  openedPortalSessionResponseSchema,
  type PortalLinkRequest,
  portalLinkRequestSchema,
  portalLinkResponseSchema,
} from './portal-sessions.schemas';

interface PortalLink {
  readonly id: string;
  readonly url: string;
  readonly linkExpiresAt: string;
}

const LINK_EXAMPLE: PortalLink = {
  id: 'psn_4f1c2a9e8b7d6c5e4f3a2b1c',
  url: 'https://portal.skyhook.example.com/enter?token=spl_Jd0…',
  linkExpiresAt: '2026-05-01T09:15:00.000Z',
};

/** A link to the partner portal for `organisation`, valid for `minutes` (ADR 0029). */
async function mintLink(
  portalSessions: PortalSessionRepository,
  config: ApiConfig,
  organisation: Organisation,
  mintedBy: string,
  minutes: number | undefined,
): Promise<PortalLink> {
  const lifetimeMs = (minutes ?? config.PORTAL_LINK_MINUTES) * 60_000;
  const minted = await portalSessions.mint(organisation.id, mintedBy, lifetimeMs);
  return {
    id: minted.id,
    url: `${config.PORTAL_PUBLIC_URL}/enter?token=${encodeURIComponent(minted.linkToken)}`,
    linkExpiresAt: minted.linkExpiresAt,
  };
}

/** Partner portal sessions: an organisation mints links; the portal opens and ends sessions. */
@DocumentedGroup({
  tag: 'Portal sessions',
  description:
    'Links to the partner portal: single-use, expiring, for one organisation. Opening one gives the portal a session that acts for the organisation until it expires or is ended.',
})
@Controller('v1/portal-sessions')
export class PortalSessionsController {
  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly portalSessions: PortalSessionRepository,
  ) {}

  @Documented({
    summary:
      'Mint a portal link for your organisation (with an API key; a portal session cannot mint another). Hand the URL to the person who should open it: it opens one session, once, before it expires.',
    success: {
      schema: portalLinkResponseSchema,
      status: 201,
      description: 'the link',
      example: LINK_EXAMPLE,
    },
    errors: [...BAD_INPUT, ApiErrorCode.Unauthenticated, ApiErrorCode.Forbidden],
  })
  @Post()
  @UseGuards(ApiKeyGuard)
  async create(
    @CurrentOrganisation() organisation: Organisation,
    @CurrentCredential() credential: Credential,
    @Body(new ZodValidationPipe(portalLinkRequestSchema)) body: PortalLinkRequest,
  ): Promise<PortalLink> {
    if (credential.kind !== 'api-key') {
      throw new ApiError(ApiErrorCode.Forbidden, 'a portal session cannot mint portal links: use an API key');
    }
    return mintLink(
      this.portalSessions,
      this.config,
      organisation,
      `api-key:${credential.keyId}`,
      body.linkLifetimeMinutes,
    );
  }

  @Documented({
    summary:
      "Open a portal link (the portal does this): Authorization: Bearer <the link's token>. Answers the session token once; a link that is unknown, expired or already opened is refused alike.",
    success: {
      schema: openedPortalSessionResponseSchema,
      status: 201,
      description: 'the session',
      example: {
        id: LINK_EXAMPLE.id,
        sessionToken: 'sps_9Qe…',
        expiresAt: '2026-05-01T17:05:00.000Z',
        organisation: { id: 'org_5b3c1d2e', name: 'Blue Sky Flight School' },
      },
    },
    errors: [ApiErrorCode.Unauthenticated],
  })
  @Post('open')
  @UseGuards(PortalLinkGuard)
  async open(@Headers('authorization') authorization: string): Promise<{
    id: string;
    sessionToken: string;
    expiresAt: string;
    organisation: { id: string; name: string };
  }> {
    const linkToken = bearerTokenOf(authorization) ?? '';
    const opened = await this.portalSessions.open(linkToken, this.config.PORTAL_SESSION_HOURS * 3_600_000);
    if (opened === undefined) {
      throw new ApiError(
        ApiErrorCode.Unauthenticated,
        'this portal link is unknown, has expired or was already opened: ask for a new one',
      );
    }
    const { id, name } = opened.organisation;
    return {
      id: opened.id,
      sessionToken: opened.sessionToken,
      expiresAt: opened.expiresAt,
      organisation: { id, name },
    };
  }

  @Documented({
    summary: 'The portal session presenting this request: its organisation and when it expires.',
    success: {
      schema: currentPortalSessionResponseSchema,
      description: 'the session',
      example: {
        id: LINK_EXAMPLE.id,
        expiresAt: '2026-05-01T17:05:00.000Z',
        organisation: { id: 'org_5b3c1d2e', name: 'Blue Sky Flight School' },
      },
    },
    errors: [ApiErrorCode.Unauthenticated, ApiErrorCode.Forbidden],
  })
  @Get('current')
  @UseGuards(ApiKeyGuard)
  async current(
    @CurrentOrganisation() organisation: Organisation,
    @CurrentCredential() credential: Credential,
  ): Promise<{ id: string; expiresAt: string; organisation: { id: string; name: string } }> {
    if (credential.kind !== 'portal-session') {
      throw new ApiError(ApiErrorCode.Forbidden, 'only a portal session has a current session');
    }
    const session = await this.portalSessions.findById(credential.sessionId);
    if (session === undefined)
      throw new ApiError(ApiErrorCode.Unauthenticated, 'the portal session has ended');
    return {
      id: session.id,
      expiresAt: session.expiresAt,
      organisation: { id: organisation.id, name: organisation.name },
    };
  }

  @Documented({
    summary: 'End the portal session presenting this request (sign out): its token is refused from now on.',
    success: { status: 204, description: 'ended' },
    errors: [ApiErrorCode.Unauthenticated, ApiErrorCode.Forbidden],
  })
  @Delete('current')
  @HttpCode(204)
  @UseGuards(ApiKeyGuard)
  async end(@CurrentCredential() credential: Credential): Promise<void> {
    if (credential.kind !== 'portal-session') {
      throw new ApiError(
        ApiErrorCode.Forbidden,
        'only a portal session can end itself; API keys are revoked by operators',
      );
    }
    await this.portalSessions.end(credential.sessionId);
  }
}

/** Operators mint portal links for an organisation (support, onboarding). */
@DocumentedGroup({
  tag: 'Admin: portal sessions',
  description: 'Portal links for an organisation, minted by operators (for support or onboarding).',
})
@Controller('admin/v1/organisations/:id/portal-sessions')
@UseGuards(AdminTokenGuard)
export class AdminPortalSessionsController {
  constructor(
    @Inject(API_CONFIG) private readonly config: ApiConfig,
    private readonly organisations: OrganisationRepository,
    private readonly portalSessions: PortalSessionRepository,
  ) {}

  @Documented({
    summary: "Mint a portal link for an organisation; as the organisation's own, single-use and expiring.",
    success: {
      schema: portalLinkResponseSchema,
      status: 201,
      description: 'the link',
      example: LINK_EXAMPLE,
    },
    errors: [...BAD_INPUT, ApiErrorCode.Unauthenticated, ApiErrorCode.NotFound],
  })
  @Post()
  async create(
    @Param('id') organisationId: string,
    @Body(new ZodValidationPipe(portalLinkRequestSchema)) body: PortalLinkRequest,
  ): Promise<PortalLink> {
    const organisation = await this.organisations.findById(organisationId);
    if (organisation === undefined) {
      throw new ApiError(ApiErrorCode.NotFound, `no organisation ${organisationId}`);
    }
    return mintLink(this.portalSessions, this.config, organisation, 'admin', body.linkLifetimeMinutes);
  }
}

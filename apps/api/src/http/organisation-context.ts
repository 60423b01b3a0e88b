import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import { type Organisation } from '../organisations/organisation.repository';

export interface AuthenticatedRequest {
  organisation?: Organisation;
}

/** The organisation the presented API key belongs to; set by ApiKeyGuard. */
export const CurrentOrganisation = createParamDecorator(
  (_: unknown, context: ExecutionContext): Organisation => {
    const organisation = context.switchToHttp().getRequest<AuthenticatedRequest>().organisation;
    if (organisation === undefined) {
      throw new Error('CurrentOrganisation used on a route without ApiKeyGuard');
    }
    return organisation;
  },
);

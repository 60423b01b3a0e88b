import { type z } from 'zod';
import { type ApiErrorCode } from '../http/api-error';

/**
 * What only a person can say about a route: what it does, what a success looks like, and which
 * refusals it can answer. Everything else in the OpenAPI document (method, path and its
 * parameters, security, request body and query schemas, the If-Match and Idempotency-Key
 * headers, the success status where `@HttpCode` sets it) is read from the route's own Nest
 * metadata and validation pipes, so the document cannot drift from what the route does.
 */
export interface RouteDocs {
  readonly summary: string;
  readonly success: {
    /** Where the handler sets the status itself (a `reply.status(…)`); otherwise from `@HttpCode` or Nest's default. */
    readonly status?: number;
    readonly description: string;
    /** The response body's schema (output side); the example must satisfy it (tested). */
    readonly schema?: z.ZodType;
    readonly example?: unknown;
  };
  readonly errors: readonly ApiErrorCode[];
}

/** A controller's group in the document: its tag. */
export interface ControllerDocs {
  readonly tag: string;
  readonly description: string;
}

const ROUTE_DOCS = Symbol('skyhook:route-docs');
const PUBLIC_ROUTES = Symbol('skyhook:public-routes');
const CONTROLLER_DOCS = Symbol('skyhook:controller-docs');

/** Documents one route handler (see {@link RouteDocs}); an undocumented route fails the document's build. */
export function Documented(docs: RouteDocs): MethodDecorator {
  return (_target, _key, descriptor) => {
    Reflect.defineMetadata(ROUTE_DOCS, docs, descriptor.value as object);
  };
}

/** Names a controller's group in the document. */
export function DocumentedGroup(docs: ControllerDocs): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(CONTROLLER_DOCS, docs, target);
  };
}

/**
 * Marks a controller's routes as meant to be served without credentials (what they answer is
 * public): without it, a route with no guard fails the document's build.
 */
export function PublicRoutes(): ClassDecorator {
  return (target) => {
    Reflect.defineMetadata(PUBLIC_ROUTES, true, target);
  };
}

export function arePublicRoutes(controller: object): boolean {
  return Reflect.getMetadata(PUBLIC_ROUTES, controller) === true;
}

export function routeDocsOf(handler: object): RouteDocs | undefined {
  return Reflect.getMetadata(ROUTE_DOCS, handler) as RouteDocs | undefined;
}

export function controllerDocsOf(controller: object): ControllerDocs | undefined {
  return Reflect.getMetadata(CONTROLLER_DOCS, controller) as ControllerDocs | undefined;
}

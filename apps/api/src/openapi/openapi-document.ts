import { type Type } from '@nestjs/common';
import {
  GUARDS_METADATA,
  HTTP_CODE_METADATA,
  METHOD_METADATA,
  PATH_METADATA,
  ROUTE_ARGS_METADATA,
} from '@nestjs/common/constants';
import { RequestMethod } from '@nestjs/common/enums/request-method.enum';
import { RouteParamtypes } from '@nestjs/common/enums/route-paramtypes.enum';
import { z } from 'zod';
import { deliveryPolicyOverrideSchema } from '@skyhook/delivery-policy';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { API_ERROR_STATUS, ApiErrorCode, RETRY_AFTER_SECONDS } from '../http/api-error';
import { ApiKeyGuard } from '../http/api-key.guard';
import { PortalLinkGuard } from '../http/portal-link.guard';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { arePublicRoutes, controllerDocsOf, type RouteDocs, routeDocsOf } from './route-docs';

/** One route as the document describes it: read from the controller, plus its `@Documented` words. */
export interface DocumentedRoute {
  readonly method: 'get' | 'post' | 'patch' | 'delete' | 'put';
  /** OpenAPI form: `/v1/subscriptions/{id}`. */
  readonly path: string;
  readonly operationId: string;
  readonly tag: string;
  /** `none`: served without credentials (`@PublicRoutes`). */
  readonly security: 'apiKey' | 'adminToken' | 'portalLink' | 'none';
  readonly body: z.ZodType | undefined;
  readonly query: z.ZodObject | undefined;
  /** Reads `If-Match`. */
  readonly conditional: boolean;
  /** Reads `Idempotency-Key`. */
  readonly idempotent: boolean;
  readonly successStatus: number;
  readonly docs: RouteDocs;
  /** The route's refusals, the database's outage included (every route reads PostgreSQL). */
  readonly errors: readonly ApiErrorCode[];
}

/** Thrown when a controller serves a route the document cannot describe. */
export class UndocumentedRouteError extends Error {}

const OPENAPI_METHODS: Partial<Record<RequestMethod, DocumentedRoute['method']>> = {
  [RequestMethod.GET]: 'get',
  [RequestMethod.POST]: 'post',
  [RequestMethod.PATCH]: 'patch',
  [RequestMethod.DELETE]: 'delete',
  [RequestMethod.PUT]: 'put',
};

interface RouteArgument {
  readonly index: number;
  readonly data: unknown;
  readonly pipes?: readonly unknown[];
}

function joinPath(base: string, path: string): string {
  const joined = `/${[base, path].filter((part) => part !== '/' && part !== '').join('/')}`;
  return joined.replace(/:(\w+)/g, '{$1}');
}

function operationIdOf(controller: Type, handlerName: string): string {
  const name = controller.name.replace(/Controller$/, '');
  return `${name.charAt(0).toLowerCase()}${name.slice(1)}_${handlerName}`;
}

function securityOf(controller: Type, handler: object, where: string): DocumentedRoute['security'] {
  const guards = [
    ...((Reflect.getMetadata(GUARDS_METADATA, controller) as unknown[] | undefined) ?? []),
    ...((Reflect.getMetadata(GUARDS_METADATA, handler) as unknown[] | undefined) ?? []),
  ];
  if (guards.includes(AdminTokenGuard)) return 'adminToken';
  if (guards.includes(ApiKeyGuard)) return 'apiKey';
  if (guards.includes(PortalLinkGuard)) return 'portalLink';
  if (guards.length === 0 && arePublicRoutes(controller)) return 'none';
  throw new UndocumentedRouteError(
    `${where} is guarded by neither the API key, the admin token nor a portal link, and not marked public`,
  );
}

/**
 * The HTTP routes of `controllers`, each described from its own metadata: method and path, the
 * guard that secures it, the zod schemas its validation pipes apply to the body and the query,
 * the headers it reads, the status `@HttpCode` sets, and its `@Documented` words. A route without
 * them (or whose body or query is not validated by a schema) throws: nothing is served undocumented.
 */
export function documentedRoutes(controllers: readonly Type[]): DocumentedRoute[] {
  const routes: DocumentedRoute[] = [];
  for (const controller of controllers) {
    const base = Reflect.getMetadata(PATH_METADATA, controller) as string;
    const prototype = controller.prototype as Record<string, unknown>;
    for (const handlerName of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[handlerName];
      if (handlerName === 'constructor' || typeof handler !== 'function') continue;
      const requestMethod = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
      if (requestMethod === undefined || paths === undefined) continue;
      const where = `${controller.name}.${handlerName}`;
      const method = OPENAPI_METHODS[requestMethod];
      if (method === undefined)
        throw new UndocumentedRouteError(`${where}: method ${RequestMethod[requestMethod]}`);
      const docs = routeDocsOf(handler);
      if (docs === undefined) throw new UndocumentedRouteError(`${where} has no @Documented description`);
      const group = controllerDocsOf(controller);
      if (group === undefined) throw new UndocumentedRouteError(`${controller.name} has no @DocumentedGroup`);
      const argumentsMetadata = (Reflect.getMetadata(ROUTE_ARGS_METADATA, controller, handlerName) ??
        {}) as Record<string, RouteArgument>;
      let body: z.ZodType | undefined;
      let query: z.ZodObject | undefined;
      const headers = new Set<string>();
      for (const [key, argument] of Object.entries(argumentsMetadata)) {
        // Nest keys a built-in parameter decorator's metadata `${RouteParamtypes}:${index}`.
        const kind = key.split(':')[0];
        const validator = argument.pipes?.find(
          (pipe): pipe is ZodValidationPipe<z.ZodType> => pipe instanceof ZodValidationPipe,
        );
        const schema: z.ZodType | undefined = validator?.schema;
        if (kind === String(RouteParamtypes.BODY)) {
          if (schema === undefined) {
            throw new UndocumentedRouteError(`${where}: its body is not validated by a schema`);
          }
          body = schema;
        } else if (kind === String(RouteParamtypes.QUERY)) {
          if (!(schema instanceof z.ZodObject)) {
            throw new UndocumentedRouteError(`${where}: its query is not validated by an object schema`);
          }
          query = schema;
        } else if (kind === String(RouteParamtypes.HEADERS) && typeof argument.data === 'string') {
          headers.add(argument.data.toLowerCase());
        }
      }
      const httpCode = Reflect.getMetadata(HTTP_CODE_METADATA, handler) as number | undefined;
      for (const path of Array.isArray(paths) ? paths : [paths]) {
        routes.push({
          method,
          path: joinPath(base, path),
          operationId: operationIdOf(controller, handlerName),
          tag: group.tag,
          security: securityOf(controller, handler, where),
          body,
          query,
          conditional: headers.has('if-match'),
          idempotent: headers.has('idempotency-key'),
          successStatus: docs.success.status ?? httpCode ?? (method === 'post' ? 201 : 200),
          docs,
          errors: [...docs.errors, ApiErrorCode.DatabaseUnavailable],
        });
      }
    }
  }
  return routes;
}

const errorBodySchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message', 'details'],
      properties: {
        code: {
          type: 'string',
          description: 'Stable code, e.g. VALIDATION_FAILED or SUBSCRIPTION_RENEWAL_NOT_OPEN',
        },
        message: { type: 'string' },
        details: {
          description: 'What the code needs said (the failing fields, the event id); `{}` when nothing.',
        },
      },
    },
  },
};

const retryAfterHeader = {
  description:
    'Seconds to wait before retrying: a dependency (the event log, the database) is unavailable. ' +
    'The same request may be sent again as it was; a publish with the same Idempotency-Key is recognised.',
  schema: { type: 'integer', minimum: 1 },
};

type JsonSchema = Record<string, unknown>;

/** `z.json()` as zod writes it alone, its recursion pointing at itself (`#`). */
const JSON_VALUE_DEFINITION = (({ $schema: _dialect, ...definition }) => JSON.stringify(definition))(
  z.toJSONSchema(z.json()),
);

/**
 * The JSON Schemas of one document. zod puts a recursive or `.meta({ id })` schema in a `$defs`
 * of the schema it returns and points at it with `#/$defs/…`; inside an OpenAPI document such a
 * pointer resolves against the document's root, where there is no `$defs`, so a client generator
 * (or any resolver) fails on it. Each definition moves to `components.schemas` under its id, and
 * every pointer to it is rewritten; two different definitions under one name, or an anonymous one
 * that is not `z.json()`'s, stop the build (give the schema `.meta({ id })`).
 */
class DocumentSchemas {
  readonly components: Record<string, JsonSchema> = {};

  of(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const { $schema: _dialect, $defs: definitions, ...jsonSchema } = z.toJSONSchema(schema, { io });
    const names = new Map<string, string>();
    for (const [local, definition] of Object.entries(definitions ?? {})) {
      names.set(local, this.nameOf(local, definition));
    }
    const rewrite = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rewrite);
      if (value === null || typeof value !== 'object') return value;
      return Object.fromEntries(
        Object.entries(value).map(([key, inner]) => {
          if (key === '$ref' && typeof inner === 'string' && inner.startsWith('#/$defs/')) {
            const name = names.get(inner.slice('#/$defs/'.length));
            if (name === undefined) throw new Error(`${inner} points at no definition`);
            return [key, `#/components/schemas/${name}`];
          }
          return [key, rewrite(inner)];
        }),
      );
    };
    for (const [local, definition] of Object.entries(definitions ?? {})) {
      const name = names.get(local) ?? local;
      const rewritten = rewrite(definition) as JsonSchema;
      const existing = this.components[name];
      if (existing !== undefined && JSON.stringify(existing) !== JSON.stringify(rewritten)) {
        throw new Error(`two different schemas are both named ${name} in the OpenAPI document`);
      }
      this.components[name] = rewritten;
    }
    return rewrite(jsonSchema) as JsonSchema;
  }

  private nameOf(local: string, definition: JsonSchema): string {
    if (!local.startsWith('__schema')) return local;
    // Inside another schema the same definition points at itself as `#/$defs/__schemaN`.
    const selfContained = JSON.stringify(definition).replaceAll(`"#/$defs/${local}"`, '"#"');
    if (selfContained === JSON_VALUE_DEFINITION) return 'JsonValue';
    throw new Error(
      `an anonymous recursive schema (${JSON.stringify(definition).slice(0, 120)}) needs .meta({ id }) to be named in the OpenAPI document`,
    );
  }
}

/**
 * OpenAPI 3.1 for the routes `controllers` serve ({@link documentedRoutes}), with the request
 * schemas of the same zod validators that check each request.
 */
export function buildOpenApiDocument(controllers: readonly Type[]): Record<string, unknown> {
  const routes = documentedRoutes(controllers);
  const schemas = new DocumentSchemas();
  const paths: Record<string, Record<string, unknown>> = {};
  const tags = new Map<string, string>();
  for (const route of routes) {
    const group = controllers.map(controllerDocsOf).find((docs) => docs?.tag === route.tag);
    if (group !== undefined) tags.set(group.tag, group.description);
    const parameters = [
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map((match) => ({
        name: match[1],
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...(route.query === undefined
        ? []
        : Object.entries((schemas.of(route.query, 'input')['properties'] ?? {}) as JsonSchema).map(
            ([name, schema]) => ({ name, in: 'query', required: false, schema }),
          )),
      ...(route.idempotent
        ? [
            {
              name: 'Idempotency-Key',
              in: 'header',
              required: false,
              description: 'Printable ASCII without spaces, up to 200 characters.',
              schema: { type: 'string', maxLength: 200 },
            },
          ]
        : []),
      ...(route.conditional
        ? [
            {
              name: 'If-Match',
              in: 'header',
              required: false,
              description: 'The version read earlier, e.g. "3": 409 if it changed.',
              schema: { type: 'string' },
            },
          ]
        : []),
    ];
    const { success } = route.docs;
    const responses: Record<string, unknown> = {
      [String(route.successStatus)]: {
        description: success.description,
        ...(success.example === undefined && success.schema === undefined
          ? {}
          : {
              content: {
                'application/json': {
                  ...(success.schema === undefined ? {} : { schema: schemas.of(success.schema, 'output') }),
                  ...(success.example === undefined ? {} : { example: success.example }),
                },
              },
            }),
      },
    };
    for (const code of route.errors) {
      const status = String(API_ERROR_STATUS[code]);
      const existing = responses[status] as { description: string; headers?: unknown } | undefined;
      responses[status] = {
        description: existing === undefined ? code : `${existing.description}, ${code}`,
        ...(RETRY_AFTER_SECONDS[code] === undefined && existing?.headers === undefined
          ? {}
          : { headers: { 'Retry-After': retryAfterHeader } }),
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
    }
    paths[route.path] = {
      ...paths[route.path],
      [route.method]: {
        operationId: route.operationId,
        tags: [route.tag],
        summary: route.docs.summary,
        security: route.security === 'none' ? [] : [{ [route.security]: [] }],
        ...(parameters.length === 0 ? {} : { parameters }),
        ...(route.body === undefined
          ? {}
          : {
              requestBody: {
                required: true,
                content: { 'application/json': { schema: schemas.of(route.body, 'input') } },
              },
            }),
        responses,
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Skyhook API',
      version: '1',
      description: "Partner subscriptions to signed webhooks, and the operators' admin API.",
    },
    tags: [...tags].map(([name, description]) => ({ name, description })),
    paths,
    components: {
      securitySchemes: {
        apiKey: {
          type: 'http',
          scheme: 'bearer',
          description: 'Organisation API key (sk_…), or a partner portal session token (sps_…)',
        },
        portalLink: {
          type: 'http',
          scheme: 'bearer',
          description: 'A portal link token (spl_…), to open it',
        },
        adminToken: { type: 'http', scheme: 'bearer', description: 'SKYHOOK_ADMIN_TOKEN' },
      },
      schemas: {
        Error: errorBodySchema,
        DeliveryPolicyOverride: schemas.of(deliveryPolicyOverrideSchema, 'input'),
        ...schemas.components,
      },
    },
  };
}

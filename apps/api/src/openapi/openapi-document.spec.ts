import { Body, Controller, Get, Headers, Post, Query, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import { API_HTTP_CONTROLLERS } from '../api-http-controllers';
import { ApiErrorCode } from '../http/api-error';
import { ApiKeyGuard } from '../http/api-key.guard';
import { ZodValidationPipe } from '../http/zod-body.pipe';
import { buildOpenApiDocument, documentedRoutes, UndocumentedRouteError } from './openapi-document';
import { Documented, DocumentedGroup } from './route-docs';

interface Operation {
  operationId: string;
  tags: string[];
  summary: string;
  security: Record<string, string[]>[];
  parameters?: { name: string; in: string }[];
  requestBody?: { content: Record<string, { schema: { required?: string[] } }> };
  responses: Record<string, { description: string; headers?: object; content?: unknown }>;
}

interface Document {
  openapi: string;
  tags: { name: string; description: string }[];
  paths: Record<string, Record<string, Operation>>;
}

const document = JSON.parse(JSON.stringify(buildOpenApiDocument(API_HTTP_CONTROLLERS))) as Document;
const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
  Object.entries(methods).map(([method, operation]) => ({
    route: `${method.toUpperCase()} ${path}`,
    operation,
  })),
);

describe('OpenAPI document, built from the controllers the api serves', () => {
  it('documents every route of every controller, each once, with a unique operationId, a tag and a summary', () => {
    const routes = documentedRoutes(API_HTTP_CONTROLLERS);
    expect(operations).toHaveLength(routes.length);
    expect(routes.length).toBeGreaterThanOrEqual(30);
    const operationIds = operations.map(({ operation }) => operation.operationId);
    expect(new Set(operationIds).size).toBe(operationIds.length);
    for (const { operation } of operations) {
      expect(operation.summary.length).toBeGreaterThan(10);
      expect(operation.tags).toHaveLength(1);
      expect(document.tags.map((tag) => tag.name)).toContain(operation.tags[0]);
    }
  });

  it('refuses to build for a route without its description, or with a body no schema validates', () => {
    @DocumentedGroup({ tag: 'Probe', description: 'a controller of this test' })
    @Controller('v1/probe')
    @UseGuards(ApiKeyGuard)
    class UndocumentedController {
      @Get()
      list(): string {
        return 'probe';
      }
    }
    expect(() => buildOpenApiDocument([UndocumentedController])).toThrow(
      new UndocumentedRouteError('UndocumentedController.list has no @Documented description'),
    );

    @DocumentedGroup({ tag: 'Probe', description: 'a controller of this test' })
    @Controller('v1/probe')
    @UseGuards(ApiKeyGuard)
    class UnvalidatedBodyController {
      @Documented({ summary: 'Takes any body at all', success: { description: 'ok' }, errors: [] })
      @Post()
      create(@Body() body: unknown): unknown {
        return body;
      }
    }
    expect(() => buildOpenApiDocument([UnvalidatedBodyController])).toThrow(UndocumentedRouteError);
  });

  it('reads security, schemas, headers and the success status from the route itself', () => {
    const probeQuery = z.strictObject({ limit: z.coerce.number().int().max(100).default(50) });
    const probeBody = z.strictObject({ name: z.string().min(1) });

    @DocumentedGroup({ tag: 'Probe', description: 'a controller of this test' })
    @Controller('v1/probe')
    @UseGuards(ApiKeyGuard)
    class ProbeController {
      @Documented({ summary: 'List the probes', success: { description: 'a page' }, errors: [] })
      @Get(':probeId/items')
      list(@Query(new ZodValidationPipe(probeQuery, 'query')) query: unknown): unknown {
        return query;
      }

      @Documented({
        summary: 'Create a probe',
        success: { description: 'created', example: { name: 'p' } },
        errors: [ApiErrorCode.Conflict],
      })
      @Post()
      create(
        @Body(new ZodValidationPipe(probeBody)) body: unknown,
        @Headers('Idempotency-Key') key: unknown,
        @Headers('if-match') ifMatch: unknown,
      ): unknown {
        return { body, key, ifMatch };
      }
    }
    const probe = JSON.parse(JSON.stringify(buildOpenApiDocument([ProbeController]))) as Document;
    const list = probe.paths['/v1/probe/{probeId}/items']?.['get'];
    expect(list?.operationId).toBe('probe_list');
    expect(list?.security).toEqual([{ apiKey: [] }]);
    expect(list?.parameters?.map(({ name, in: where }) => `${where}:${name}`)).toEqual([
      'path:probeId',
      'query:limit',
    ]);
    const create = probe.paths['/v1/probe']?.['post'];
    expect(create?.requestBody?.content['application/json']?.schema.required).toEqual(['name']);
    expect(create?.parameters?.map(({ name }) => name)).toEqual(['Idempotency-Key', 'If-Match']);
    expect(Object.keys(create?.responses ?? {}).sort()).toEqual(['201', '409', '503']);
    expect(create?.responses['201']?.content).toEqual({ 'application/json': { example: { name: 'p' } } });
  });

  it('lists every client-facing error code somewhere', () => {
    const listed = new Set(documentedRoutes(API_HTTP_CONTROLLERS).flatMap((route) => route.errors));
    const clientFacing = Object.values(ApiErrorCode).filter(
      (code) => code !== ApiErrorCode.Internal && code !== ApiErrorCode.UnsupportedMediaType,
    );
    expect(clientFacing.filter((code) => !listed.has(code))).toEqual([]);
  });

  it('documents a 503 with Retry-After on every route (the database) and on publishing (the event log)', () => {
    for (const { route, operation } of operations) {
      const unavailable = operation.responses['503'];
      expect({ route, description: unavailable?.description }).toEqual({
        route,
        description: expect.stringContaining('DATABASE_UNAVAILABLE') as string,
      });
      expect(unavailable?.headers).toHaveProperty('Retry-After');
    }
    expect(document.paths['/v1/events']?.['post']?.responses['503']?.description).toContain(
      'KAFKA_UNAVAILABLE',
    );
  });

  it('secures partner routes with the API key, admin routes with the admin token, opening a portal link with the link, and serves public keys without credentials', () => {
    for (const { route, operation } of operations) {
      if (route === 'GET /v1/organisations/{organisationId}/signing-keys') {
        expect(operation.security).toEqual([]);
        continue;
      }
      const scheme = route.includes(' /admin/')
        ? 'adminToken'
        : route === 'POST /v1/portal-sessions/open'
          ? 'portalLink'
          : 'apiKey';
      expect({ route, security: operation.security }).toEqual({ route, security: [{ [scheme]: [] }] });
    }
  });

  it('takes request schemas, conditional and idempotent headers and statuses from the routes', () => {
    expect(document.openapi).toBe('3.1.0');
    const create = document.paths['/v1/subscriptions']?.['post'];
    expect(create?.requestBody?.content['application/json']?.schema.required).toEqual(['url', 'eventTypes']);
    expect(Object.keys(create?.responses ?? {})).toContain('201');
    const update = document.paths['/v1/subscriptions/{id}']?.['patch'];
    expect(update?.parameters?.map(({ name }) => name)).toEqual(['id', 'If-Match']);
    const publish = document.paths['/v1/events']?.['post'];
    expect(publish?.parameters?.map(({ name }) => name)).toEqual(['Idempotency-Key']);
    expect(Object.keys(publish?.responses ?? {})).toContain('202');
    expect(Object.keys(document.paths['/v1/subscriptions/{id}']?.['delete']?.responses ?? {})).toContain(
      '204',
    );
    expect(Object.keys(document.paths['/v1/deliveries/{id}/resend']?.['post']?.responses ?? {})).toContain(
      '202',
    );
  });

  it('gives every route that answers with a body a response schema, which its example satisfies', () => {
    const routes = documentedRoutes(API_HTTP_CONTROLLERS);
    const withoutSchema = routes
      .filter((route) => route.successStatus !== 204 && route.docs.success.schema === undefined)
      .map((route) => route.operationId);
    expect(withoutSchema).toEqual([]);
    const withSchema = routes.filter((route) => route.docs.success.schema !== undefined);
    expect(withSchema.length).toBeGreaterThanOrEqual(25);
    for (const route of withSchema) {
      const { schema, example } = route.docs.success;
      if (schema === undefined || example === undefined) continue;
      const parsed = schema.safeParse(example);
      expect({ route: route.operationId, issues: parsed.error?.issues ?? [] }).toEqual({
        route: route.operationId,
        issues: [],
      });
    }
    const get = document.paths['/v1/subscriptions/{id}']?.['get']?.responses['200']?.content as Record<
      string,
      { schema: { properties: Record<string, unknown> } }
    >;
    expect(Object.keys(get['application/json']?.schema.properties ?? {})).toContain('effectivePolicy');
  });
});

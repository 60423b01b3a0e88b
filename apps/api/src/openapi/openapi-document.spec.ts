import { RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DeliveriesController, SubscriptionDeliveriesController } from '../deliveries/deliveries.controller';
import { EventTypesController } from '../event-types/event-types.controller';
import { EventsController } from '../events/events.controller';
import { ApiErrorCode } from '../http/api-error';
import { AdminOrganisationsController } from '../organisations/admin-organisations.controller';
import { AdminReplaysController } from '../replays/admin-replays.controller';
import { ReplaysController } from '../replays/replays.controller';
import { AdminSubscriptionsController } from '../subscriptions/admin-subscriptions.controller';
import { SubscriptionsController } from '../subscriptions/subscriptions.controller';
import { API_ROUTES, buildOpenApiDocument } from './openapi-document';

/** Every route the controllers declare, as "METHOD /path/{param}". */
function declaredRoutes(): string[] {
  const routes: string[] = [];
  for (const controller of [
    SubscriptionsController,
    SubscriptionDeliveriesController,
    DeliveriesController,
    ReplaysController,
    EventTypesController,
    EventsController,
    AdminOrganisationsController,
    AdminSubscriptionsController,
    AdminReplaysController,
  ]) {
    const base = Reflect.getMetadata(PATH_METADATA, controller) as string;
    const prototype = controller.prototype as unknown as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      const handler = prototype[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined) continue;
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string;
      const full = `/${[base, path].filter((part) => part !== '/' && part !== '').join('/')}`.replace(
        /:(\w+)/g,
        '{$1}',
      );
      routes.push(`${RequestMethod[method]} ${full}`);
    }
  }
  return routes.sort();
}

describe('OpenAPI document', () => {
  it('documents exactly the routes the controllers serve', () => {
    const documented = API_ROUTES.map((route) => `${route.method.toUpperCase()} ${route.path}`).sort();
    expect(documented).toEqual(declaredRoutes());
  });

  it('lists every client-facing error code somewhere', () => {
    const listed = new Set(API_ROUTES.flatMap((route) => route.errors));
    const clientFacing = Object.values(ApiErrorCode).filter(
      (code) => code !== ApiErrorCode.Internal && code !== ApiErrorCode.UnsupportedMediaType,
    );
    expect(clientFacing.filter((code) => !listed.has(code))).toEqual([]);
  });

  it('documents a 503 with Retry-After on every route (the database) and on publishing (the event log)', () => {
    const document = buildOpenApiDocument() as {
      paths: Record<
        string,
        Record<string, { responses: Record<string, { description: string; headers?: object }> }>
      >;
    };
    const unavailable = Object.values(document.paths).flatMap((methods) =>
      Object.values(methods).map((operation) => operation.responses['503']),
    );
    expect(unavailable.length).toBe(API_ROUTES.length);
    for (const response of unavailable) {
      expect(response?.description).toContain('DATABASE_UNAVAILABLE');
      expect(response?.headers).toHaveProperty('Retry-After');
    }
    expect(document.paths['/v1/events']?.['post']?.responses['503']?.description).toContain(
      'KAFKA_UNAVAILABLE',
    );
  });

  it('builds a serialisable OpenAPI 3.1 document with request schemas from the validators', () => {
    const document = JSON.parse(JSON.stringify(buildOpenApiDocument())) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>
      >;
    };
    expect(document.openapi).toBe('3.1.0');
    const create = document.paths['/v1/subscriptions']?.['post'];
    expect(create?.requestBody?.content['application/json']?.schema.required).toEqual(['url', 'eventTypes']);
  });
});

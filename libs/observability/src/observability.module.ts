import { type DynamicModule, Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule } from 'nestjs-pino';
import { type Registry } from 'prom-client';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { METRICS_REGISTRY, SERVICE_LOGGER } from './observability.tokens';
import { ReadinessRegistry } from './readiness-registry';
import { type ServiceLogger } from './service-logger';
import { traceIdFrom } from './trace-context';
import { TraceContextInterceptor } from './trace-context.interceptor';

export interface ObservabilityModuleOptions {
  readonly registry: Registry;
  readonly logger: ServiceLogger;
}

/**
 * Health, readiness and metrics endpoints plus request logging with a request id for every
 * service. Global, so any module can register a readiness check or a metric.
 */
@Global()
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityModuleOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      imports: [
        TerminusModule.forRoot({ errorLogStyle: 'json', logger: false }),
        LoggerModule.forRoot({
          pinoHttp: {
            logger: options.logger,
            // The HTTP adapter has already assigned the request id; reuse it as the trace id.
            genReqId: (request) => traceIdFrom(request.id ?? request.headers['x-request-id']),
            customProps: (request) => ({ traceId: request.id }),
            // Probes and scrapes every few seconds would drown the useful lines.
            autoLogging: {
              // Fastify's middleware layer rewrites `url` relative to the mount point; `originalUrl` is the path.
              ignore: (request) => {
                const path = (request as { originalUrl?: string }).originalUrl ?? request.url ?? '';
                return /^\/(health|metrics)(\/|\?|$)/.test(path);
              },
            },
          },
        }),
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        ReadinessRegistry,
        { provide: APP_INTERCEPTOR, useClass: TraceContextInterceptor },
        { provide: METRICS_REGISTRY, useValue: options.registry },
        { provide: SERVICE_LOGGER, useValue: options.logger },
      ],
      exports: [ReadinessRegistry, METRICS_REGISTRY, SERVICE_LOGGER],
    };
  }
}

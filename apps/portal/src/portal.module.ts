import { type DynamicModule, Inject, Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { ObservabilityModule, ReadinessRegistry } from '@skyhook/observability';
import { type ServiceContext } from '@skyhook/service-runtime';
import { PortalController } from './portal.controller';
import { PORTAL_CONFIG, type PortalConfig } from './portal.config';

/** Ready while the api answers its liveness probe: every page acts through it. */
@Injectable()
class ApiReadiness implements OnApplicationBootstrap {
  constructor(
    private readonly readiness: ReadinessRegistry,
    @Inject(PORTAL_CONFIG) private readonly config: PortalConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.readiness.register({
      name: 'api',
      check: async () => {
        const response = await fetch(`${this.config.SKYHOOK_API_URL}/health/live`, {
          signal: AbortSignal.timeout(2_000),
        });
        if (!response.ok) throw new Error(`the api answered ${response.status}`);
      },
    });
  }
}

/** The partner portal: pages over the api, for one organisation per session (ADR 0029). */
@Module({})
export class PortalModule {
  static forRoot({ config, logger, registry }: ServiceContext<PortalConfig>): DynamicModule {
    return {
      module: PortalModule,
      imports: [ObservabilityModule.forRoot({ registry, logger })],
      controllers: [PortalController],
      providers: [{ provide: PORTAL_CONFIG, useValue: config }, ApiReadiness],
    };
  }
}

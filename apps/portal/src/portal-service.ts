import { type ServiceDefinition } from '@skyhook/service-runtime';
import { configurePortalHttp } from './portal-http';
import { loadPortalConfig, type PortalConfig } from './portal.config';
import { PortalModule } from './portal.module';

/** The portal as a service: started by main.ts, and in-process by its browser test. */
export const PORTAL_SERVICE: ServiceDefinition<PortalConfig> = {
  name: 'portal',
  loadConfig: loadPortalConfig,
  // The api may start after the portal (npm start, a rolling deploy): readiness says when it answers.
  preflight: () => Promise.resolve(),
  rootModule: (context) => PortalModule.forRoot(context),
  configureHttp: (app, { config }) => configurePortalHttp(app, config),
  bodyLimitBytes: 64 * 1024,
};

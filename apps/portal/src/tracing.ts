// Imported by main.ts before anything else (after reflect-metadata): the HTTP instrumentation
// patches http as it is loaded. A no-op unless OTEL_TRACES_EXPORTER is set. Spans: the portal's
// requests.
import { startTracing } from '@skyhook/observability';

startTracing('portal', { instrument: ['http'] });

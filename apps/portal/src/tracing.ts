// Imported by main.ts before anything else (after reflect-metadata): OpenTelemetry has to patch
// http, undici and pg before they are loaded. A no-op unless OTEL_TRACES_EXPORTER is set.
import { startTracing } from '@skyhook/observability';

startTracing('portal');

// Imported by main.ts before anything else (after reflect-metadata): the instrumentations patch
// http and pg as they are loaded. A no-op unless OTEL_TRACES_EXPORTER is set. Spans: the api's
// requests, and the queries made while one is handled.
import { startTracing } from '@skyhook/observability';

startTracing('api', { instrument: ['http', 'pg'] });

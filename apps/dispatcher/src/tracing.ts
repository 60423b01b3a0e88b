// Imported by main.ts before anything else (after reflect-metadata). A no-op unless
// OTEL_TRACES_EXPORTER is set. Spans: each consumed record's handling (libs/messaging) and each
// webhook attempt (its own span, not undici's instrumentation, which would send traceparent to
// partners); no instrumentation is loaded.
import { startTracing } from '@skyhook/observability';

startTracing('dispatcher');

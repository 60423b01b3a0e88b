// Imported by main.ts before anything else (after reflect-metadata). A no-op unless
// OTEL_TRACES_EXPORTER is set. Spans: each consumed record's handling (libs/messaging); the batched
// writes serve many traces at once, so no pg instrumentation.
import { startTracing } from '@skyhook/observability';

startTracing('history');

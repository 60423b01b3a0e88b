// Imported by main.ts before anything else (after reflect-metadata). A no-op unless
// OTEL_TRACES_EXPORTER is set. Spans: each consumed record's handling (libs/messaging); no
// instrumentation, since none of fan-out's calls is a library call worth a span of its own.
import { startTracing } from '@skyhook/observability';

startTracing('fanout');

import { isUtf8 } from 'node:buffer';
import { type IncomingMessage } from 'node:http';
import { type Http2ServerRequest } from 'node:http2';
import { type DynamicModule, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Logger as NestPinoLogger } from 'nestjs-pino';
import { type Registry } from 'prom-client';
import {
  createMetricsRegistry,
  createServiceLogger,
  type ServiceLogger,
  traceIdFrom,
  stopTracing,
} from '@skyhook/observability';
import { type ServiceEnvironment } from './environment-config';
import { answerClientError, answerFrameworkError } from './http-framework-errors';

export interface ServiceContext<TConfig> {
  readonly config: TConfig;
  readonly logger: ServiceLogger;
  readonly registry: Registry;
}

export interface ServiceDefinition<TConfig extends ServiceEnvironment> {
  readonly name: string;
  /** Parses and validates the environment; throws a StartupError naming what is wrong. */
  readonly loadConfig: (environment: NodeJS.ProcessEnv) => TConfig;
  /** Checks that the dependencies answer before anything is wired, to fail in one clear line. */
  readonly preflight: (context: ServiceContext<TConfig>) => Promise<void>;
  readonly rootModule: (context: ServiceContext<TConfig>) => DynamicModule;
  /** Registers Fastify plugins and hooks (forms, cookies) before the routes are mounted. */
  readonly configureHttp?: (app: NestFastifyApplication, context: ServiceContext<TConfig>) => Promise<void>;
  /** Attaches Kafka consumers once the application's providers exist. */
  readonly attachConsumers?: (app: INestApplication, context: ServiceContext<TConfig>) => void;
  /** Largest HTTP request body accepted; larger ones get 413. */
  readonly bodyLimitBytes?: number;
}

/** Beyond this, a shutdown that is stuck (a hung socket, a broker gone) is cut short. */
const SHUTDOWN_DEADLINE_MS = 30_000;

/**
 * Starts a service the same way everywhere: validated configuration, reachable
 * dependencies, structured logs, metrics, graceful shutdown on SIGTERM/SIGINT. Any start-up
 * failure ends the process with exit code 1 and one line on stderr saying what is wrong.
 */
export async function runService<TConfig extends ServiceEnvironment>(
  definition: ServiceDefinition<TConfig>,
): Promise<INestApplication | undefined> {
  try {
    const app = await startService(definition, process.env);
    return app;
  } catch (error) {
    process.stderr.write(`skyhook ${definition.name}: cannot start: ${oneLine(error)}\n`);
    process.exit(1);
  }
}

export async function startService<TConfig extends ServiceEnvironment>(
  definition: ServiceDefinition<TConfig>,
  environment: NodeJS.ProcessEnv,
): Promise<NestFastifyApplication> {
  const config = definition.loadConfig(environment);
  const logger = createServiceLogger({ service: definition.name, level: config.LOG_LEVEL });
  const registry = createMetricsRegistry(definition.name);
  const context: ServiceContext<TConfig> = { config, logger, registry };

  await definition.preflight(context);

  const app = await NestFactory.create<NestFastifyApplication>(
    definition.rootModule(context),
    createHttpAdapter(definition.bodyLimitBytes),
    { ...HTTP_APPLICATION_OPTIONS, bufferLogs: true, abortOnError: false },
  );
  app.useLogger(app.get(NestPinoLogger));
  app.flushLogs();
  installGracefulShutdown(app, logger);
  installLastResortHandlers(logger);

  await definition.configureHttp?.(app, context);
  definition.attachConsumers?.(app, context);
  await app.init();
  await app.startAllMicroservices();
  await app.listen(config.PORT, config.HOST);
  logger.info({ url: await app.getUrl() }, `${definition.name} started`);
  return app;
}

/**
 * SIGTERM/SIGINT: consumers finish the records in hand and commit, the HTTP server drains,
 * producers and pools close (Nest's lifecycle hooks, in that order), then exit code 0. We
 * own the signals rather than Nest's `enableShutdownHooks`, which re-raises the signal and
 * so reports a clean stop as a kill.
 */
/**
 * Nest application options every service (and a test hosting one in-process) is created with:
 * Nest's own body parsers off, so that Fastify's JSON parser is the only one (Nest would add a
 * form-urlencoded parser, whose fields would reach validation as if they were JSON).
 */
export const HTTP_APPLICATION_OPTIONS = { bodyParser: false } as const;

/**
 * Fastify, configured the same way for services and for tests that host a service in-process.
 * Request bodies are JSON or refused with 415: Fastify's `text/plain` parser is removed (a
 * plain-text body would otherwise reach validation as a string and be answered 400).
 */
export function createHttpAdapter(bodyLimitBytes = 1_048_576): FastifyAdapter {
  const adapter = new FastifyAdapter({
    bodyLimit: bodyLimitBytes,
    trustProxy: true,
    // The request id is the trace id: a caller's well-formed X-Request-Id is kept, anything
    // else (absent, oversized, log-forging) is replaced by a fresh UUID.
    requestIdHeader: false,
    genReqId: (request: IncomingMessage | Http2ServerRequest) => traceIdFrom(request.headers['x-request-id']),
    // Errors before any route (too long a path, too large headers) in the one error shape.
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
  });
  const fastify = adapter.getInstance();
  // A 413 goes out once the refused body has been read (up to a bound): a client that writes its
  // whole body before reading the answer (Python's urllib and requests do) would otherwise see
  // the connection closed under it, a broken pipe instead of the 413.
  // (Callback style: every other response passes through without a promise.)
  fastify.addHook('onSend', (request, reply, payload, done) => {
    if (reply.statusCode !== 413 || request.raw.complete) {
      done(null, payload);
      return;
    }
    void drainRequestBody(request.raw).then(() => done(null, payload));
  });
  fastify.removeContentTypeParser('text/plain');
  // JSON read as bytes first: Fastify decodes a body as UTF-8 and turns invalid bytes into U+FFFD,
  // which would then be signed and delivered as if published. Invalid UTF-8 is refused instead.
  const parseJson = fastify.getDefaultJsonParser('error', 'error');
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (!isUtf8(bytes)) {
      done(new BodyRefusedError('the request body is not valid UTF-8'), undefined);
      return;
    }
    void parseJson(request, bytes.toString('utf8'), (error, parsed) => {
      // Fastify answers a prototype key as "not valid JSON"; when the text is valid JSON, that was
      // the reason: say so.
      if (error !== null && isJson(bytes.toString('utf8'))) {
        done(
          new BodyRefusedError(
            'a "__proto__" or "constructor.prototype" key is not accepted (it would reach for the object prototype)',
          ),
          undefined,
        );
        return;
      }
      done(error, parsed);
    });
  });
  return adapter;
}

/** A refused body is read and discarded up to this much, for this long; beyond, the connection closes. */
const REFUSED_BODY_DRAIN_BYTES = 64 * 1_048_576;
const REFUSED_BODY_DRAIN_MS = 30_000;

function drainRequestBody(request: IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    let drained = 0;
    const finish = (): void => {
      clearTimeout(timer);
      request.off('data', onData);
      request.off('end', finish);
      request.off('error', finish);
      request.off('close', finish);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      drained += chunk.length;
      if (drained > REFUSED_BODY_DRAIN_BYTES) finish();
    };
    const timer = setTimeout(finish, REFUSED_BODY_DRAIN_MS);
    request.on('data', onData);
    request.once('end', finish);
    request.once('error', finish);
    request.once('close', finish);
    request.resume();
  });
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** A body refused before any handler: 400, with a message saying why (not "invalid JSON"). */
class BodyRefusedError extends Error {
  readonly statusCode = 400;
  readonly code = 'BODY_REFUSED';
}

function installGracefulShutdown(app: INestApplication, logger: ServiceLogger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error(`shutdown did not finish within ${SHUTDOWN_DEADLINE_MS} ms; exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app
      .close()
      // Spans of the last records handled go out before the process does.
      .then(() => stopTracing())
      .then(
        () => {
          logger.info('stopped');
          logger.flush();
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          logger.flush();
          process.exit(1);
        },
      );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** A bug that escapes every handler ends the process (to be restarted), never a zombie. */
function installLastResortHandlers(logger: ServiceLogger): void {
  process.on('unhandledRejection', (reason) => {
    logger.fatal({ err: reason }, 'unhandled promise rejection');
    process.exit(1);
  });
  process.on('uncaughtException', (error) => {
    logger.fatal({ err: error }, 'uncaught exception');
    process.exit(1);
  });
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, ' ').trim();
}

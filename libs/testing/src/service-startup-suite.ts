import { createTestDatabase, type TestDatabase } from './test-database';
import { testKafkaBrokers } from './test-infrastructure-env';
import { pollUntil } from './poll-until';
import { findFreeLoopbackPort, type ServiceName } from '@skyhook/local-infrastructure';
import { spawnService, startService } from './service-process';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';
import { uniqueTopicPrefix } from './unique-names';

/**
 * What every service promises at start-up: it answers liveness and readiness, serves its
 * Prometheus metrics, stops cleanly on SIGTERM, and refuses bad configuration in one line.
 */
export function describeServiceStartup(
  name: ServiceName,
  options: {
    usesDatabase: boolean;
    /** Further variables the service requires, with valid values, in the order it reports them missing. */
    requiredEnvironment?: Record<string, string>;
  },
): void {
  const required = options.requiredEnvironment ?? {};
  describe(`${name} service process`, () => {
    let database: TestDatabase | undefined;
    let environment: Record<string, string>;

    beforeAll(async () => {
      database = options.usesDatabase ? await createTestDatabase(name) : undefined;
      environment = {
        KAFKA_BROKERS: testKafkaBrokers(),
        KAFKA_TOPIC_PREFIX: uniqueTopicPrefix(),
        LOG_LEVEL: 'warn',
        ...(database === undefined ? {} : { DATABASE_URL: database.url }),
        ...required,
      };
    });

    afterAll(async () => {
      await database?.drop();
    });

    it('answers liveness, readiness and metrics, then stops cleanly on SIGTERM', async () => {
      const service = await startService(name, environment);
      try {
        const ready = await pollUntil(
          async () => {
            const response = await fetch(`${service.baseUrl}/health/ready`);
            return response.status === 200
              ? ((await response.json()) as { info: Record<string, unknown> })
              : undefined;
          },
          { description: `${name} ready` },
        );
        expect(Object.keys(ready.info)).toEqual(
          expect.arrayContaining(options.usesDatabase ? ['kafka', 'postgres'] : ['kafka']),
        );

        const metrics = await fetch(`${service.baseUrl}/metrics`);
        expect(metrics.headers.get('content-type')).toContain('text/plain');
        const body = await metrics.text();
        expect(body).toContain(`process_cpu_user_seconds_total{service="${name}"}`);
        expect(body).toContain('nodejs_eventloop_lag_p99_seconds');
      } finally {
        expect(await service.stop('SIGTERM')).toBe(0);
      }
    });

    it('fails fast with one line naming every missing variable', async () => {
      const service = spawnService(name, { PORT: '0' });
      expect(await service.exited).toBe(1);
      const missing = [
        'KAFKA_BROKERS',
        ...(options.usesDatabase ? ['DATABASE_URL'] : []),
        ...Object.keys(required),
      ];
      expect(service.stderr()).toBe(
        `skyhook ${name}: cannot start: invalid configuration: ${missing.map((v) => `${v} is required`).join('; ')}\n`,
      );
    });

    it('retries a broker that does not answer for KAFKA_STARTUP_TIMEOUT_MS, a warning a try, then fails with one line', async () => {
      const service = spawnService(name, {
        ...environment,
        PORT: '0',
        KAFKA_BROKERS: '127.0.0.1:1',
        KAFKA_STARTUP_TIMEOUT_MS: '2000',
      });
      expect(await service.exited).toBe(1);
      expect(service.stderr()).toMatch(
        new RegExp(
          `^skyhook ${name}: cannot start: Kafka brokers 127\\.0\\.0\\.1:1 unreachable: .*ECONNREFUSED.* \\(still failing after 2\\.0 s, KAFKA_STARTUP_TIMEOUT_MS\\)\\n$`,
        ),
      );
      expect(startupRetryWarnings(service.stdout())[0]).toMatch(
        /^Kafka start-up: reaching the brokers 127\.0\.0\.1:1 failed \(.*ECONNREFUSED.*\); retrying in \d+ ms, giving up in (\d+ ms|\d+\.\d s)$/,
      );
    });

    it('waits for a broker that is not up yet, saying so, and becomes ready once it answers', async () => {
      const [host = '127.0.0.1', port = '9092'] = (testKafkaBrokers().split(',')[0] ?? '').split(':');
      // Nothing listens on the port the service is given until a proxy to the test broker opens
      // it. Only the bootstrap goes through the proxy: kafkajs then connects to the address the
      // broker advertises.
      const brokerPort = await findFreeLoopbackPort();
      const service = spawnService(name, {
        ...environment,
        HOST: '127.0.0.1',
        PORT: String(await findFreeLoopbackPort()),
        KAFKA_BROKERS: `127.0.0.1:${brokerPort}`,
      });
      let broker: TcpProxy | undefined;
      try {
        await pollUntil(() => startupRetryWarnings(service.stdout()).length > 0, {
          timeoutMs: 15_000,
          description: `${name} warning that it retries the broker`,
        });
        broker = await startTcpProxy({ host, port: Number(port) }, { port: brokerPort });
        await pollUntil(
          async () => {
            const response = await fetch(`${service.baseUrl}/health/ready`);
            return response.status === 200;
          },
          { timeoutMs: 30_000, description: `${name} ready once the broker answers` },
        );
        expect(startupRetryWarnings(service.stdout())[0]).toMatch(
          /^Kafka start-up: reaching the brokers 127\.0\.0\.1:\d+ failed \(.*ECONNREFUSED.*\); retrying in \d+ ms, giving up in (\d+ ms|\d+\.\d s)$/,
        );
      } finally {
        expect(await service.stop('SIGTERM')).toBe(0);
        await broker?.close();
      }
    });

    if (options.usesDatabase) {
      it('fails fast with one line on a malformed DATABASE_URL', async () => {
        const service = spawnService(name, {
          ...environment,
          PORT: '0',
          DATABASE_URL: 'mysql://root@localhost/skyhook',
        });
        expect(await service.exited).toBe(1);
        expect(service.stderr()).toBe(
          `skyhook ${name}: cannot start: invalid configuration: DATABASE_URL: expected postgres://user[:password]@host[:port]/database\n`,
        );
      });

      it('fails fast with one line, without the password, when PostgreSQL does not answer', async () => {
        const service = spawnService(name, {
          ...environment,
          PORT: '0',
          DATABASE_URL: 'postgres://skyhook:hunter2@127.0.0.1:1/skyhook',
        });
        expect(await service.exited).toBe(1);
        expect(service.stderr()).toMatch(
          new RegExp(
            `^skyhook ${name}: cannot start: PostgreSQL at 127\\.0\\.0\\.1:1/skyhook unreachable: .*\\n$`,
          ),
        );
        expect(service.stderr()).not.toContain('hunter2');
      });
    }
  });
}

/** The messages of the warnings a service logged while it retried a Kafka step of its start-up. */
function startupRetryWarnings(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as { level?: string; msg?: string })
    .filter((entry) => entry.level === 'warn' && entry.msg?.startsWith('Kafka start-up: ') === true)
    .map((entry) => entry.msg ?? '');
}

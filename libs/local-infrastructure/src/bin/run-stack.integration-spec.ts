import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { findFreeLoopbackPort } from '../free-port';
import { ensureDatabase, dropDatabase } from '../postgres-provider';
import { APP_NAMES } from '../service-launch';
import { workspaceRoot } from '../workspace-root';

// This library sits below the shared test helpers, so this test reads the run's
// infrastructure from the environment the global setup filled, without importing them.
const brokers = process.env['SKYHOOK_TEST_KAFKA_BROKERS'] ?? '';
const adminUrl = process.env['SKYHOOK_TEST_POSTGRES_ADMIN_URL'] ?? '';

async function eventually(
  probe: () => Promise<boolean>,
  description: string,
  timeoutMs = 60_000,
): Promise<void> {
  const giveUpAt = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > giveUpAt) throw new Error(`${description} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('npm start (the dev stack runner)', () => {
  const database = `skyhook_test_stack_${randomBytes(4).toString('hex')}`;

  afterAll(async () => {
    await dropDatabase(adminUrl, database);
  });

  it('starts the four services and the portal ready with metrics, shows the demo in the portal within a minute, and Ctrl-C stops every one of them', async () => {
    const databaseUrl = await ensureDatabase(adminUrl, database);
    const ports = Object.fromEntries(
      await Promise.all(APP_NAMES.map(async (name) => [name, await findFreeLoopbackPort()] as const)),
    );
    const demoReceiverPort = await findFreeLoopbackPort();
    const runner = spawn(
      process.execPath,
      [join(workspaceRoot(), 'dist', 'libs', 'local-infrastructure', 'src', 'bin', 'run-stack.js')],
      {
        env: {
          PATH: process.env['PATH'] ?? '',
          KAFKA_BROKERS: brokers,
          DATABASE_URL: databaseUrl,
          KAFKA_TOPIC_PREFIX: `stack-${randomBytes(4).toString('hex')}.`,
          LOG_LEVEL: 'warn',
          SKYHOOK_DEMO_RECEIVER_PORT: String(demoReceiverPort),
          ...Object.fromEntries(
            APP_NAMES.map((name) => [`SKYHOOK_${name.toUpperCase()}_PORT`, String(ports[name])]),
          ),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    runner.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    runner.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => runner.once('exit', (code) => resolve(code)));

    try {
      await eventually(
        () => Promise.resolve(output.includes('Skyhook is running')),
        'the stack reporting itself running',
      );
      // Local receivers are the common case: `npm start` allows loopback endpoints, and says so.
      await eventually(
        () =>
          Promise.resolve(output.includes('loopback endpoints allowed (SKYHOOK_ALLOW_HTTP_LOOPBACK=true)')),
        'the stack saying loopback endpoints are allowed',
      );
      for (const name of APP_NAMES) {
        const ready = await fetch(`http://127.0.0.1:${ports[name]}/health/ready`);
        expect(ready.status).toBe(200);
        const metrics = await (await fetch(`http://127.0.0.1:${ports[name]}/metrics`)).text();
        expect(metrics).toContain(`service="${name}"`);
      }
      const client = new Client({ connectionString: databaseUrl });
      await client.connect();
      const migrated = await client.query('SELECT name FROM schema_migrations');
      await client.end();
      expect(migrated.rowCount).toBeGreaterThan(0);

      // The first minute: the printed portal link opens a session on the demo organisation, whose
      // deliveries to the demo receiver show in the portal (some delivered, every fourth failing).
      await eventually(
        () => Promise.resolve(/\/enter\?token=spl_[\w-]+/.test(output)),
        'the stack printing a portal link',
      );
      const link = /http:\/\/127\.0\.0\.1:\d+\/enter\?token=spl_[\w-]+/.exec(output)?.[0] ?? '';
      expect(link.startsWith(`http://127.0.0.1:${ports['portal']}/enter`)).toBe(true);
      const entered = await fetch(link, { redirect: 'manual' });
      expect(entered.status).toBe(303);
      const session = (entered.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      expect(session).toMatch(/^skyhook_portal=sps_/);
      await eventually(async () => {
        const page = await fetch(`http://127.0.0.1:${ports['portal']}/deliveries`, {
          headers: { cookie: session },
        });
        return (await page.text()).includes('status-delivered');
      }, 'a demo delivery shown delivered in the portal');
      // Beside it, the demo's notification endpoint (Skyhook's own skyhook.* notifications).
      const endpoints = await fetch(`http://127.0.0.1:${ports['portal']}/subscriptions`, {
        headers: { cookie: session },
      });
      expect(await endpoints.text()).toContain(`127.0.0.1:${demoReceiverPort}/notifications`);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n--- the runner's output:\n${output.slice(-4_000)}`);
    } finally {
      runner.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    for (const name of APP_NAMES) {
      await expect(fetch(`http://127.0.0.1:${ports[name]}/health/live`)).rejects.toThrow();
    }
  }, 150_000);
});

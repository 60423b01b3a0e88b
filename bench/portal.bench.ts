/**
 * Portal benchmark (`npm run bench:portal`): how fast the partner portal answers its pages, and
 * what each costs. The whole product on its own broker and database (as `bench:pipeline`), the
 * portal as its own process, one organisation with a few endpoints and some delivered events.
 * Opens a portal link, then requests each page in turn with the session cookie, one at a time
 * (a person, not a load test), and prints per page: p50 / p95 / max ms from request to the last
 * byte, and the CPU ms the portal and the api spent per page (from /proc).
 *
 * Settings: PORTAL_BENCH_ROUNDS (100) requests of each page.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  findFreeLoopbackPort,
  launchServiceProcess,
  provisionPostgres,
  type ProvisionedPostgres,
  workspaceRoot,
} from '@skyhook/local-infrastructure';
import { CHAOS_EVENT_TYPE, type ChaosStack, pollUntil, startChaosStack } from '@skyhook/testing';
import { fixed, loadAverage, percentile, whole } from './bench-report';
import { benchNumberSetting } from './bench-settings';
import { processCpuMs } from './process-cpu';

const ROUNDS = benchNumberSetting('PORTAL_BENCH_', 'PORTAL_BENCH_ROUNDS', 100, 1);
const EVENTS = 30;

function say(line: string): void {
  process.stderr.write(`[bench:portal] ${line}\n`);
}

async function main(): Promise<void> {
  const startedLoad = loadAverage();
  let postgres: ProvisionedPostgres | undefined;
  let stack: ChaosStack | undefined;
  let portal: ReturnType<typeof launchServiceProcess> | undefined;
  try {
    postgres = await provisionPostgres({
      stateDir: join(workspaceRoot(), 'tmp', 'bench-portal'),
      useContainers: false,
      log: say,
    });
    stack = await startChaosStack({
      postgresAdminUrl: postgres.adminUrl,
      label: 'bench-portal',
      subscriptions: 5,
      serviceEnvironment: { KAFKA_TOPIC_PREFIX: `portal-${randomBytes(4).toString('hex')}.` },
      log: say,
    });
    const { apiUrl, apiKey } = stack;
    const port = await findFreeLoopbackPort();
    portal = launchServiceProcess('portal', {
      PORT: String(port),
      LOG_LEVEL: 'warn',
      SKYHOOK_API_URL: apiUrl,
    });
    const portalUrl = `http://127.0.0.1:${port}`;
    await pollUntil(async () => (await fetch(`${portalUrl}/health/ready`)).ok, {
      timeoutMs: 60_000,
      intervalMs: 250,
      description: 'the portal ready',
    });

    const authorised = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
    for (let n = 0; n < EVENTS; n += 1) {
      await fetch(`${apiUrl}/v1/events`, {
        method: 'POST',
        headers: authorised,
        body: JSON.stringify({ type: CHAOS_EVENT_TYPE, data: { n } }),
      });
    }
    const deliveries = async () =>
      (await (
        await fetch(`${apiUrl}/v1/deliveries?limit=100&status=delivered`, { headers: authorised })
      ).json()) as {
        data: { id: string; subscriptionId: string }[];
      };
    await pollUntil(async () => (await deliveries()).data.length >= EVENTS, {
      timeoutMs: 60_000,
      intervalMs: 250,
      description: 'the deliveries in history',
    });
    const [delivery] = (await deliveries()).data;

    const minted = (await (
      await fetch(`${apiUrl}/v1/portal-sessions`, { method: 'POST', headers: authorised, body: '{}' })
    ).json()) as { url: string };
    const token = new URL(minted.url).searchParams.get('token') ?? '';
    const opened = performance.now();
    const entered = await fetch(`${portalUrl}/enter?token=${encodeURIComponent(token)}`, {
      redirect: 'manual',
    });
    const enterMs = performance.now() - opened;
    const cookie = (entered.headers.get('set-cookie') ?? '').split(';')[0] ?? '';

    const pages = [
      '/subscriptions',
      `/subscriptions/${delivery!.subscriptionId}`,
      '/deliveries',
      `/deliveries/${delivery!.id}`,
      '/event-types',
    ];
    const apiPid = stack.service('api').pid ?? 0;
    const rows: string[] = [];
    for (const page of pages) {
      // A first request warms the JIT, as a second visitor would find it.
      await (await fetch(`${portalUrl}${page}`, { headers: { cookie } })).text();
      const timings: number[] = [];
      const portalCpu = processCpuMs(portal.pid ?? 0);
      const apiCpu = processCpuMs(apiPid);
      for (let round = 0; round < ROUNDS; round += 1) {
        const started = performance.now();
        const response = await fetch(`${portalUrl}${page}`, { headers: { cookie } });
        const body = await response.text();
        timings.push(performance.now() - started);
        if (response.status !== 200 || !body.includes('</html>'))
          throw new Error(`${page} answered ${response.status}`);
      }
      const sorted = timings.sort((a, b) => a - b);
      rows.push(
        `| ${page.replace(/(sub|del)_[\w-]+/, '$1_…')} | ${fixed(percentile(sorted, 50), 1)} | ${fixed(percentile(sorted, 95), 1)} | ${fixed(sorted.at(-1) ?? 0, 1)} | ` +
          `${fixed((processCpuMs(portal.pid ?? 0) - portalCpu) / ROUNDS, 2)} | ${fixed((processCpuMs(apiPid) - apiCpu) / ROUNDS, 2)} |`,
      );
    }
    process.stdout.write(
      `Portal pages, ${whole(ROUNDS)} requests each, one at a time, with a session; load average ${startedLoad} at start, ${loadAverage()} at end.\n` +
        `Opening the portal link (/enter, session opened in the api): ${fixed(enterMs, 1)} ms.\n\n` +
        '| page | p50 ms | p95 ms | max ms | portal CPU ms/page | api CPU ms/page |\n| --- | --- | --- | --- | --- | --- |\n' +
        `${rows.join('\n')}\n`,
    );
  } finally {
    portal?.kill('SIGTERM');
    await stack?.close();
    await postgres?.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(
      `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);

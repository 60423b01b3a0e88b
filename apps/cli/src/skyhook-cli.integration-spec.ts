import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CONSUMER_GROUPS } from '@skyhook/contracts';
import { workspaceRoot } from '@skyhook/local-infrastructure';
import {
  createTestDatabase,
  pollUntil,
  type ServiceProcess,
  startService,
  type TestDatabase,
  testKafkaBrokers,
  uniqueTopicPrefix,
} from '@skyhook/testing';

const ADMIN_TOKEN = `admin-${randomBytes(16).toString('hex')}`;
const RECEIVER = 'http://127.0.0.1:9/hooks/skyhook';

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The built CLI as an operator runs it: its own process, settings from the environment only. */
function skyhook(environment: Record<string, string>, ...argv: string[]): Promise<CliRun> {
  const entry = join(workspaceRoot(), 'dist', 'apps', 'cli', 'src', 'main.js');
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--disable-warning=TimeoutNegativeWarning', entry, ...argv],
      { env: { PATH: process.env['PATH'] ?? '', ...environment }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function json<T>(run: CliRun): T {
  if (run.code !== 0) throw new Error(`skyhook exited ${run.code}: ${run.stderr}`);
  return JSON.parse(run.stdout) as T;
}

describe('skyhook CLI against the running api, Kafka and Postgres', () => {
  let database: TestDatabase;
  let api: ServiceProcess;
  let environment: Record<string, string>;

  const partner = async (method: string, path: string, key: string, body?: unknown) => {
    const response = await fetch(`${api.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return {
      status: response.status,
      body: (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>,
    };
  };

  beforeAll(async () => {
    database = await createTestDatabase('cli');
    const kafka = { KAFKA_BROKERS: testKafkaBrokers(), KAFKA_TOPIC_PREFIX: uniqueTopicPrefix() };
    api = await startService('api', {
      ...kafka,
      DATABASE_URL: database.url,
      SECRETS_MASTER_KEY: randomBytes(32).toString('base64'),
      SKYHOOK_ADMIN_TOKEN: ADMIN_TOKEN,
      SKYHOOK_ALLOW_HTTP_LOOPBACK: 'true',
      LOG_LEVEL: 'warn',
    });
    environment = { ...kafka, SKYHOOK_API_URL: api.baseUrl, SKYHOOK_ADMIN_TOKEN: ADMIN_TOKEN };
  });

  afterAll(async () => {
    await api?.stop();
    await database?.drop();
  });

  it('runs every command an operator needs, end to end', async () => {
    // An organisation and its first key; the key works against the partners' API.
    const created = json<{ organisation: { id: string }; apiKey: string }>(
      await skyhook(
        environment,
        'organisations',
        'create',
        '--name',
        'CLI Aviation',
        '--lifetime-days',
        '90',
        '--json',
      ),
    );
    const organisationId = created.organisation.id;
    expect((await partner('GET', '/v1/event-types', created.apiKey)).status).toBe(200);
    expect(
      (
        await partner('POST', '/v1/event-types', created.apiKey, {
          eventTypes: [{ name: 'booking.created' }],
        })
      ).status,
    ).toBe(200);

    const issued = json<{ apiKey: string }>(
      await skyhook(environment, 'api-keys', 'create', '--organisation', organisationId, '--json'),
    );
    expect((await partner('GET', '/v1/event-types', issued.apiKey)).status).toBe(200);

    // A disabled endpoint is listed with its reason, then enabled again.
    const subscription = await partner('POST', '/v1/subscriptions', created.apiKey, {
      url: RECEIVER,
      eventTypes: ['booking.*'],
    });
    expect(subscription.status).toBe(201);
    const subscriptionId = subscription.body['id'] as string;
    expect(
      (await partner('POST', `/v1/subscriptions/${subscriptionId}/disable`, created.apiKey)).status,
    ).toBe(200);

    const listed = await skyhook(environment, 'endpoints', 'disabled', '--organisation', organisationId);
    expect(listed.code).toBe(0);
    const row = listed.stdout.split('\n').find((line) => line.startsWith(subscriptionId));
    expect(row?.split(/\s+/).slice(0, 4)).toEqual([subscriptionId, organisationId, RECEIVER, 'partner']);

    const enabled = json<{ status: string }>(
      await skyhook(environment, 'endpoints', 'enable', subscriptionId, '--json'),
    );
    expect(enabled.status).toBe('active');
    expect((await partner('GET', `/v1/subscriptions/${subscriptionId}`, created.apiKey)).body['status']).toBe(
      'active',
    );
    expect(
      json<{ id: string }[]>(
        await skyhook(environment, 'endpoints', 'disabled', '--organisation', organisationId, '--json'),
      ),
    ).toEqual([]);

    // A replay job, then its status.
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const job = json<{ id: string; subscriptionId: string; statuses: string[] }>(
      await skyhook(
        environment,
        'replay',
        '--organisation',
        organisationId,
        '--subscription',
        subscriptionId,
        '--since',
        since,
        '--status',
        'failed,dropped',
        '--json',
      ),
    );
    expect(job).toMatchObject({ subscriptionId, statuses: ['failed', 'dropped'] });
    const status = await skyhook(
      environment,
      'replay',
      'status',
      job.id,
      '--organisation',
      organisationId,
      '--subscription',
      subscriptionId,
    );
    expect(status.stdout).toContain(`Replay ${job.id} of ${subscriptionId}:`);

    // Lag of every group; the api's read model has consumed the subscription log by now.
    const prefix = environment['KAFKA_TOPIC_PREFIX'] ?? '';
    const readModelGroup = `${prefix}skyhook.${CONSUMER_GROUPS.subscriptionReadModel.name}`;
    const lag = await pollUntil(
      async () => {
        const report = json<{ group: string; state: string; lag: string }[]>(
          await skyhook(environment, 'lag', '--json'),
        );
        const readModel = report.find((entry) => entry.group === readModelGroup);
        return readModel?.state === 'ok' && readModel.lag === '0' ? report : undefined;
      },
      {
        timeoutMs: 20_000,
        intervalMs: 500,
        description: 'the read model group committed the subscription log',
      },
    );
    expect([...new Set(lag.map((entry) => entry.group))]).toEqual(
      Object.values(CONSUMER_GROUPS).map((group) => `${prefix}skyhook.${group.name}`),
    );
  });

  it('fails with one stderr line and exit code 1 on a refused token or an unreachable api', async () => {
    const refused = await skyhook({ ...environment, SKYHOOK_ADMIN_TOKEN: 'wrong' }, 'endpoints', 'disabled');
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^skyhook: GET \/admin\/v1\/subscriptions failed with 401 \(check SKYHOOK_ADMIN_TOKEN\)/,
      ),
    ]);

    const unreachable = await skyhook(
      { ...environment, SKYHOOK_API_URL: 'http://127.0.0.1:1' },
      'endpoints',
      'disabled',
    );
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(/^skyhook: cannot reach the api at http:\/\/127\.0\.0\.1:1: /);
  });
});

import { type GroupTopicLag } from './consumer-lag-report';
import { type CliDependencies, runCli } from './skyhook-cli';

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly authorization: string | null;
  readonly body: unknown;
}

function harness(
  answer: (request: Recorded) => { status: number; body: unknown },
  environment: Record<string, string> = { SKYHOOK_ADMIN_TOKEN: 'operator-token' },
) {
  const requests: Recorded[] = [];
  let stdout = '';
  let stderr = '';
  const lagCalls: Parameters<CliDependencies['readConsumerLag']>[] = [];
  const dependencies: CliDependencies = {
    // The generated client hands fetch a Request (method, headers and body inside it).
    fetch: async (input) => {
      if (!(input instanceof Request)) throw new Error('the client should fetch a Request');
      const text = await input.text();
      const request: Recorded = {
        method: input.method,
        url: input.url,
        authorization: input.headers.get('authorization'),
        body: text === '' ? undefined : JSON.parse(text),
      };
      requests.push(request);
      const { status, body } = answer(request);
      return new Response(JSON.stringify(body), {
        status,
        headers: { 'content-type': 'application/json' },
      });
    },
    readConsumerLag: (...args) => {
      lagCalls.push(args);
      const rows: GroupTopicLag[] = [
        {
          group: 'skyhook.fanout',
          service: 'fanout',
          topic: 'skyhook.events.in.v1',
          committed: '40',
          end: '42',
          lag: '2',
          state: 'ok',
        },
      ];
      return Promise.resolve(rows);
    },
  };
  const run = async (...argv: string[]) => {
    const code = await runCli(
      argv,
      { environment, stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) },
      dependencies,
    );
    return { code, stdout, stderr };
  };
  return { run, requests, lagCalls };
}

const organisationCreated = {
  status: 201,
  body: { organisation: { id: 'org_1', name: 'Acme Air' }, id: 'key_1', apiKey: 'sk_secret' },
};

describe('skyhook CLI', () => {
  it('creates an organisation with the lifetime settings and prints the key once', async () => {
    const { run, requests } = harness(() => organisationCreated);
    const result = await run(
      'organisations',
      'create',
      '--name',
      'Acme Air',
      '--lifetime-days',
      '90',
      '--renewal-window-days',
      '7',
    );
    expect(result.code).toBe(0);
    expect(requests).toEqual([
      {
        method: 'POST',
        url: 'http://127.0.0.1:3000/admin/v1/organisations',
        authorization: 'Bearer operator-token',
        body: { name: 'Acme Air', subscriptionLifetimeDays: 90, renewalWindowDays: 7 },
      },
    ]);
    expect(result.stdout.match(/sk_secret/g)).toHaveLength(1);
    expect(result.stdout).toContain('Organisation org_1 (Acme Air) created.');
  });

  it('prints the api answer as JSON with --json', async () => {
    const { run } = harness(() => organisationCreated);
    const result = await run('organisations', 'create', '--name', 'Acme Air', '--json');
    expect(JSON.parse(result.stdout)).toEqual(organisationCreated.body);
  });

  it('uses SKYHOOK_API_URL without its trailing slash', async () => {
    const { run, requests } = harness(() => ({ status: 201, body: { id: 'key_2', apiKey: 'sk_2' } }), {
      SKYHOOK_ADMIN_TOKEN: 't',
      SKYHOOK_API_URL: 'https://skyhook.example.com/',
    });
    await run('api-keys', 'create', '--organisation', 'org_1');
    expect(requests[0]?.url).toBe('https://skyhook.example.com/admin/v1/organisations/org_1/api-keys');
  });

  it('follows every page of disabled endpoints and narrows to an organisation', async () => {
    const disabled = (id: string) => ({
      id,
      organisationId: 'org_1',
      url: `https://example.com/${id}`,
      status: 'disabled',
      disabledReason: 'circuit-breaker',
      disabledDetail: '5 consecutive failures',
      version: 2,
      updatedAt: '2026-05-31T18:09:12.000Z',
    });
    const { run, requests } = harness((request) =>
      request.url.includes('cursor=')
        ? { status: 200, body: { data: [disabled('sub_2')], nextCursor: null } }
        : { status: 200, body: { data: [disabled('sub_1')], nextCursor: 'next' } },
    );
    const result = await run('endpoints', 'disabled', '--organisation', 'org_1');
    expect(requests.map((request) => new URL(request.url).searchParams.toString())).toEqual([
      'status=disabled&limit=100&organisationId=org_1',
      'status=disabled&limit=100&organisationId=org_1&cursor=next',
    ]);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^ID\s+ORGANISATION\s+URL\s+REASON\s+DISABLED AT\s+DETAIL$/);
    expect(lines.slice(1).map((line) => line.split(/\s+/)[0])).toEqual(['sub_1', 'sub_2']);
    expect(lines[1]).toContain('circuit-breaker');
  });

  it('starts a replay with normalised instants and the chosen statuses', async () => {
    const job = {
      id: 'rpl_1',
      subscriptionId: 'sub_1',
      state: 'running',
      since: '2026-05-31T00:00:00.000Z',
      until: '2026-06-01T00:00:00.000Z',
      statuses: ['failed', 'held'],
      matched: 3,
      enqueued: 0,
      error: null,
      createdAt: '2026-06-01T00:00:00.000Z',
      finishedAt: null,
    };
    const { run, requests } = harness(() => ({ status: 202, body: job }));
    const result = await run(
      'replay',
      '--organisation',
      'org_1',
      '--subscription',
      'sub_1',
      '--since',
      '2026-05-31T02:00:00+02:00',
      '--status',
      'failed,held',
    );
    expect(result.code).toBe(0);
    expect(requests[0]?.url).toBe(
      'http://127.0.0.1:3000/admin/v1/organisations/org_1/subscriptions/sub_1/replay',
    );
    expect(requests[0]?.body).toEqual({ since: '2026-05-31T00:00:00.000Z', statuses: ['failed', 'held'] });
    expect(result.stdout).toContain('Replay rpl_1 of sub_1: running, 0 of 3 deliveries enqueued.');
  });

  it('reads lag with the Kafka settings of the environment and the configured read-model group', async () => {
    const { run, lagCalls } = harness(() => ({ status: 500, body: {} }), {
      KAFKA_BROKERS: 'kafka-1:9092,kafka-2:9092',
      KAFKA_TOPIC_PREFIX: 'staging.',
      SUBSCRIPTION_READ_MODEL_GROUP: 'subscriptions-read-model-2',
    });
    const result = await run('lag');
    expect(result.code).toBe(0);
    const [settings, groups] = lagCalls[0] ?? [];
    expect(settings?.brokers).toEqual(['kafka-1:9092', 'kafka-2:9092']);
    expect(settings?.topicPrefix).toBe('staging.');
    expect(groups?.map((group) => group.name)).toEqual([
      'fanout',
      'dispatcher',
      'dispatcher-retries',
      'dispatcher-parked',
      'dispatcher-ordered',
      'history',
      'subscriptions-read-model-2',
      'api-subscription-commands',
    ]);
    expect(result.stdout.split('\n')[1]).toMatch(
      /^skyhook\.fanout\s+skyhook\.events\.in\.v1\s+40\s+42\s+2\s+ok$/,
    );
  });

  describe('fails with one stderr line and a non-zero exit code', () => {
    it.each([
      [['lag'], {}, 2, 'skyhook: invalid Kafka settings: KAFKA_BROKERS is required'],
      [['organisations', 'create', '--name', 'x'], {}, 2, 'skyhook: SKYHOOK_ADMIN_TOKEN is not set'],
      [
        ['organisations', 'create'],
        { SKYHOOK_ADMIN_TOKEN: 't' },
        2,
        'skyhook: Missing required argument: name',
      ],
      [['endpoints', 'purge'], { SKYHOOK_ADMIN_TOKEN: 't' }, 2, 'skyhook: Unknown argument: purge'],
      [
        ['organisations', 'create', '--name', 'x', '--lifetime-days', 'ten'],
        { SKYHOOK_ADMIN_TOKEN: 't' },
        2,
        'skyhook: --lifetime-days must be',
      ],
      [
        ['replay', '--organisation', 'o', '--subscription', 's', '--since', 'yesterday'],
        { SKYHOOK_ADMIN_TOKEN: 't' },
        2,
        'skyhook: --since must be an ISO 8601 instant',
      ],
      [
        [
          'replay',
          '--organisation',
          'o',
          '--subscription',
          's',
          '--since',
          '2026-01-01T00:00:00Z',
          '--status',
          'lost',
        ],
        { SKYHOOK_ADMIN_TOKEN: 't' },
        2,
        'skyhook: --status takes',
      ],
      [
        // Statuses the API refuses are refused here too, before any request.
        [
          'replay',
          '--organisation',
          'o',
          '--subscription',
          's',
          '--since',
          '2026-01-01T00:00:00Z',
          '--status',
          'pending,skipped',
        ],
        { SKYHOOK_ADMIN_TOKEN: 't' },
        2,
        'skyhook: --status takes a comma-separated list of waiting, retrying, delivered, failed, dropped, held; unknown: pending, skipped',
      ],
      [['lag'], { KAFKA_BROKERS: 'not a broker' }, 2, 'skyhook: invalid Kafka settings: KAFKA_BROKERS'],
      [
        ['endpoints', 'disabled'],
        { SKYHOOK_ADMIN_TOKEN: 't', SKYHOOK_API_URL: 'ftp://x' },
        2,
        'skyhook: invalid SKYHOOK_API_URL',
      ],
    ])('%j', async (argv, environment, code, message) => {
      const { run, requests } = harness(() => ({ status: 200, body: {} }), environment);
      const result = await run(...argv);
      expect(result.code).toBe(code);
      expect(result.stderr.startsWith(message)).toBe(true);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stdout).toBe('');
      expect(requests).toEqual([]);
    });

    it('names the status and the api error when the admin token is refused', async () => {
      const { run } = harness(() => ({
        status: 401,
        body: { error: { code: 'UNAUTHENTICATED', message: 'missing or invalid admin token' } },
      }));
      const result = await run('endpoints', 'enable', 'sub_1');
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        'skyhook: POST /admin/v1/subscriptions/sub_1/enable failed with 401 (check SKYHOOK_ADMIN_TOKEN): UNAUTHENTICATED: missing or invalid admin token\n',
      );
    });

    it('says the api is unreachable, with the address', async () => {
      const { run } = harness(() => {
        throw new TypeError('fetch failed', {
          cause: Object.assign(new Error('connect'), { code: 'ECONNREFUSED' }),
        });
      });
      const result = await run('endpoints', 'disabled');
      expect(result.code).toBe(1);
      expect(result.stderr).toBe('skyhook: cannot reach the api at http://127.0.0.1:3000: ECONNREFUSED\n');
    });
  });
});

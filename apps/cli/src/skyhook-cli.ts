import yargs, { type Argv } from 'yargs';
import { DELIVERY_STATUSES, type DeliveryStatus } from '@skyhook/contracts';
import { AdminApiClient } from './admin-api-client';
import { CliError, CliExitCode } from './cli-error';
import { apiSettingsFrom, kafkaSettingsOf, subscriptionReadModelGroupOf } from './cli-settings';
import { type GroupTopicLag, readConsumerLag, watchedGroups } from './consumer-lag-report';
import {
  formatConsumerLag,
  formatCreatedOrganisation,
  formatDisabledSubscriptions,
  formatEnabledSubscription,
  formatIssuedApiKey,
  formatReplayJob,
} from './output-format';

/** What `--status` accepts: the delivery statuses history records, from their one definition. */
const REPLAY_STATUSES = DELIVERY_STATUSES;

export interface CliIo {
  readonly environment: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** The CLI's I/O with the outside: swapped in unit tests, real in `main.ts`. */
export interface CliDependencies {
  readonly fetch: typeof fetch;
  readonly readConsumerLag: typeof readConsumerLag;
}

const realDependencies: CliDependencies = { fetch: (...args) => fetch(...args), readConsumerLag };

function isoInstant(option: string) {
  return (text: string | undefined): string | undefined => {
    if (text === undefined) return undefined;
    if (
      !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text) ||
      Number.isNaN(Date.parse(text))
    ) {
      throw new CliError(
        `--${option} must be an ISO 8601 instant with a zone, e.g. 2026-05-31T00:00:00Z`,
        CliExitCode.Usage,
      );
    }
    return new Date(text).toISOString();
  };
}

function statusList(value: string | undefined): DeliveryStatus[] | undefined {
  if (value === undefined) return undefined;
  const named = value
    .split(',')
    .map((status) => status.trim())
    .filter((status) => status !== '');
  const isStatus = (status: string): status is DeliveryStatus =>
    (REPLAY_STATUSES as readonly string[]).includes(status);
  const statuses = named.filter(isStatus);
  const unknown = named.filter((status) => !isStatus(status));
  if (named.length === 0 || unknown.length > 0) {
    throw new CliError(
      `--status takes a comma-separated list of ${REPLAY_STATUSES.join(', ')}${unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : ''}`,
      CliExitCode.Usage,
    );
  }
  return [...new Set(statuses)];
}

function positiveInteger(option: string, minimum: number) {
  return (value: string | undefined): number | undefined => {
    if (value === undefined) return undefined;
    const number = Number(value);
    if (!Number.isInteger(number) || number < minimum) {
      throw new CliError(`--${option} must be a whole number of at least ${minimum}`, CliExitCode.Usage);
    }
    return number;
  };
}

/**
 * `skyhook <command>`: runs one command and answers the exit code; output goes to `io`,
 * failures as one `skyhook: …` line on stderr.
 */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  dependencies: CliDependencies = realDependencies,
): Promise<number> {
  let exitCode = 0;
  const print = (json: boolean, value: unknown, text: string): void =>
    io.stdout(json ? `${JSON.stringify(value, null, 2)}\n` : `${text}\n`);
  const api = (): AdminApiClient => new AdminApiClient(apiSettingsFrom(io.environment), dependencies.fetch);

  const parser: Argv = yargs([...argv])
    .scriptName('skyhook')
    .usage(
      "$0 <command> [options]\n\nOperators' tool for Skyhook. Settings from the environment: SKYHOOK_API_URL (default http://127.0.0.1:3000), SKYHOOK_ADMIN_TOKEN, KAFKA_BROKERS, KAFKA_TOPIC_PREFIX and the other KAFKA_* settings of the services.",
    )
    .option('json', { type: 'boolean', default: false, describe: 'print JSON instead of text' })
    .command('organisations', 'manage organisations', (organisations) =>
      organisations
        .command(
          'create',
          'create an organisation and its first API key (printed once)',
          (command) =>
            command
              .option('name', { type: 'string', demandOption: true, describe: 'display name' })
              .option('lifetime-days', {
                type: 'string',
                describe: 'subscriptions expire after this many days (default: never)',
              })
              .option('renewal-window-days', {
                type: 'string',
                describe: 'days before expiry a subscription may be renewed (default 5)',
              }),
          async (args) => {
            if (args.name.trim() === '') throw new CliError('--name must not be empty', CliExitCode.Usage);
            const created = await api().createOrganisation({
              name: args.name,
              subscriptionLifetimeDays: positiveInteger('lifetime-days', 1)(args['lifetime-days']),
              renewalWindowDays: positiveInteger('renewal-window-days', 0)(args['renewal-window-days']),
            });
            print(args.json, created, formatCreatedOrganisation(created));
          },
        )
        .demandCommand(1, 'name a subcommand: organisations create'),
    )
    .command('api-keys', 'manage API keys', (apiKeys) =>
      apiKeys
        .command(
          'create',
          'issue another API key for an organisation (printed once)',
          (command) =>
            command
              .option('organisation', { type: 'string', demandOption: true, describe: 'organisation id' })
              .option('label', { type: 'string', default: 'cli', describe: 'what the key is for' }),
          async (args) => {
            const issued = await api().createApiKey(args.organisation, args.label);
            print(args.json, issued, formatIssuedApiKey(args.organisation, issued));
          },
        )
        .demandCommand(1, 'name a subcommand: api-keys create'),
    )
    .command('endpoints', 'disabled endpoints (subscriptions)', (endpoints) =>
      endpoints
        .command(
          'disabled',
          'list disabled subscriptions with the reason',
          (command) => command.option('organisation', { type: 'string', describe: 'only this organisation' }),
          async (args) => {
            const disabled = await api().listDisabledSubscriptions(args.organisation);
            print(args.json, disabled, formatDisabledSubscriptions(disabled));
          },
        )
        .command(
          'enable <id>',
          'enable a disabled subscription again',
          (command) =>
            command.positional('id', { type: 'string', demandOption: true, describe: 'subscription id' }),
          async (args) => {
            const enabled = await api().enableSubscription(args.id);
            print(args.json, enabled, formatEnabledSubscription(enabled));
          },
        )
        .demandCommand(1, 'name a subcommand: endpoints disabled | endpoints enable <id>'),
    )
    .command(
      'lag',
      'committed vs end offsets of every Skyhook consumer group, from Kafka',
      (command) => command,
      async (args) => {
        const report: GroupTopicLag[] = await dependencies.readConsumerLag(
          kafkaSettingsOf(io.environment),
          watchedGroups(subscriptionReadModelGroupOf(io.environment)),
        );
        print(args.json, report, formatConsumerLag(report));
      },
    )
    .command(
      'replay',
      "replay a subscription's deliveries (replay status <job> follows one)",
      (replay) =>
        replay
          .option('organisation', { type: 'string', demandOption: true, describe: 'organisation id' })
          .option('subscription', { type: 'string', demandOption: true, describe: 'subscription id' })
          .command(
            'status <job>',
            'show a replay job and its progress',
            (command) =>
              command.positional('job', { type: 'string', demandOption: true, describe: 'replay job id' }),
            async (args) => {
              const job = await api().replayJob(args.organisation, args.subscription, args.job);
              print(args.json, job, formatReplayJob(job));
            },
          )
          .option('since', {
            type: 'string',
            describe: 'deliveries published at or after this ISO instant (required to start)',
          })
          .option('until', { type: 'string', describe: 'published before this ISO instant (default now)' })
          .option('status', {
            type: 'string',
            describe: `statuses to replay, comma-separated (default failed,dropped,held)`,
          }),
      async (args) => {
        if (args.since === undefined)
          throw new CliError('--since is required to start a replay', CliExitCode.Usage);
        const job = await api().startReplay({
          organisationId: args.organisation,
          subscriptionId: args.subscription,
          since: isoInstant('since')(args.since) ?? args.since,
          until: isoInstant('until')(args.until),
          statuses: statusList(args.status),
        });
        print(args.json, job, formatReplayJob(job));
      },
    )
    .demandCommand(1, 'name a command: organisations, api-keys, endpoints, lag or replay')
    .strict()
    .help()
    .version(false)
    .exitProcess(false)
    .fail((message: string | undefined, error: Error | undefined) => {
      throw error ?? new CliError(message ?? 'invalid command line', CliExitCode.Usage);
    })
    .wrap(Math.min(120, process.stdout.columns ?? 100));

  try {
    let helpShown = '';
    await parser.parseAsync([...argv], {}, (_error, _argv, output) => {
      helpShown = output;
    });
    if (helpShown !== '') io.stdout(`${helpShown}\n`);
  } catch (error) {
    exitCode = error instanceof CliError ? error.exitCode : CliExitCode.Failed;
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`skyhook: ${message.split('\n')[0] ?? message}\n`);
  }
  return exitCode;
}

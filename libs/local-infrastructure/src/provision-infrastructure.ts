import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { containerEngineAvailable } from './container-runtime';
import { type InfrastructureLog, silentLog } from './infrastructure-log';
import { provisionKafka } from './kafka-provider';
import { provisionPostgres } from './postgres-provider';

export interface ProvisionedInfrastructure {
  readonly kafkaBrokers: string;
  readonly kafkaOrigin: string;
  /** A URL allowed to create databases (tests create one per file; the dev stack one in all). */
  readonly postgresAdminUrl: string;
  readonly postgresOrigin: string;
  stop(): Promise<void>;
}

export interface ProvisionOptions {
  readonly stateDir: string;
  /** The dev stack keeps its broker's data between runs; tests start clean and delete it. */
  readonly persistent?: boolean;
  /** A three-broker Kafka cluster from the Maven jars rather than one broker. */
  readonly kafkaCluster?: boolean;
  readonly log?: InfrastructureLog;
}

/**
 * The one place that decides where Kafka and PostgreSQL come from, for tests and the dev
 * stack alike: `KAFKA_BROKERS` / `DATABASE_URL` if given; containers when an engine answers;
 * otherwise a real Kafka from Maven Central jars and the machine's (or an embedded) Postgres.
 */
export async function provisionInfrastructure(options: ProvisionOptions): Promise<ProvisionedInfrastructure> {
  const log = options.log ?? silentLog;
  const persistent = options.persistent ?? false;
  const needsContainersDecision =
    (!process.env['KAFKA_BROKERS'] && options.kafkaCluster !== true) || !process.env['DATABASE_URL'];
  const useContainers = needsContainersDecision && (await containerEngineAvailable(log));
  // A test run gets a directory of its own, so parallel runs never share or delete each other's.
  const stateDir = persistent ? options.stateDir : join(options.stateDir, `run-${process.pid}-${Date.now()}`);

  const [kafka, postgres] = await Promise.all([
    provisionKafka({ stateDir, persistent, useContainers, cluster: options.kafkaCluster, log }),
    provisionPostgres({ stateDir, useContainers, log }),
  ]);

  return {
    kafkaBrokers: kafka.bootstrapServers,
    kafkaOrigin: kafka.origin,
    postgresAdminUrl: postgres.adminUrl,
    postgresOrigin: postgres.origin,
    stop: async () => {
      await Promise.allSettled([kafka.stop(), postgres.stop()]);
      if (!persistent) {
        await rm(stateDir, { recursive: true, force: true });
      }
    },
  };
}

import { join } from 'node:path';
import { type InfrastructureLog } from './infrastructure-log';
import { startLocalKafkaCluster } from './kafka-cluster-from-maven';
import { startLocalKafka } from './kafka-from-maven';

export interface ProvisionedKafka {
  readonly bootstrapServers: string;
  readonly origin: 'environment' | 'container' | 'maven';
  stop(): Promise<void>;
}

/** Kafka 4.x as a container image, the same line the Maven pom pins. */
const KAFKA_IMAGE = 'confluentinc/cp-kafka:8.1.0';

export async function provisionKafka(options: {
  stateDir: string;
  persistent: boolean;
  useContainers: boolean;
  /** Three brokers from the Maven jars (replication 3, min ISR 2) instead of one. */
  cluster?: boolean;
  log: InfrastructureLog;
}): Promise<ProvisionedKafka> {
  const fromEnvironment = process.env['KAFKA_BROKERS'];
  if (fromEnvironment !== undefined && fromEnvironment !== '') {
    return { bootstrapServers: fromEnvironment, origin: 'environment', stop: () => Promise.resolve() };
  }
  if (options.cluster === true) {
    const cluster = await startLocalKafkaCluster({
      dataDir: join(options.stateDir, 'kafka-cluster'),
      persistent: options.persistent,
      log: options.log,
    });
    return { bootstrapServers: cluster.bootstrapServers, origin: 'maven', stop: () => cluster.stop() };
  }
  if (options.useContainers) {
    const { KafkaContainer } = await import('@testcontainers/kafka');
    options.log(`starting ${KAFKA_IMAGE} (KRaft) in a container`);
    const container = await new KafkaContainer(KAFKA_IMAGE).withKraft().start();
    return {
      bootstrapServers: `${container.getHost()}:${container.getMappedPort(9093)}`,
      origin: 'container',
      stop: async () => {
        await container.stop();
      },
    };
  }
  const broker = await startLocalKafka({
    dataDir: join(options.stateDir, 'kafka'),
    persistent: options.persistent,
    log: options.log,
  });
  return { bootstrapServers: broker.bootstrapServers, origin: 'maven', stop: () => broker.stop() };
}

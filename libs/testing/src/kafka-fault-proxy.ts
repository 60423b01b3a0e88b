import { connect, createServer, type Server, type Socket } from 'node:net';
import { type ISocketFactory } from 'kafkajs';

/** Kafka's api key of a produce request (the protocol's request header, first field). */
const PRODUCE_API_KEY = 0;
/** Kafka's api key of a metadata request. */
const METADATA_API_KEY = 3;
/** Kafka's error code UNKNOWN_TOPIC_OR_PARTITION: "This server does not host this topic-partition". */
export const UNKNOWN_TOPIC_OR_PARTITION = 3;
/** Kafka's error code OUT_OF_ORDER_SEQUENCE_NUMBER. */
export const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;

/**
 * A loopback proxy between kafkajs and one broker that understands just enough of Kafka's
 * framing (a 4-byte size before each request and response; a request's api key and
 * correlation id; a response's correlation id) to break produce requests the way a dying broker
 * does: the request reaches the broker and is stored, its answer never comes back; or the broker
 * answers a produce with an error it would give a producer it has lost track of. It can also
 * answer every topic of a metadata request with an error, as the brokers of a cluster just created
 * do until a new topic's metadata has reached them.
 *
 * Plain TCP proxies do not work for Kafka: a client connects to the address the broker advertises
 * in its metadata, not to the one it bootstrapped from. kafkajs' `socketFactory` (see
 * `socketFactory`) sends every connection of one client through the proxy instead.
 */
export interface KafkaFaultProxy {
  /** A kafkajs socket factory that connects to the proxy, whatever broker address it is asked for. */
  readonly socketFactory: ISocketFactory;
  /** Produce requests forwarded so far. */
  readonly produceRequests: number;
  /**
   * The next produce request reaches the broker; its response is swallowed, so the client waits
   * until its request timeout. Resolves once a response has been swallowed.
   */
  swallowNextProduceResponse(): Promise<void>;
  /**
   * Every produce response on the connections open now carries `errorCode` for its first
   * partition, for ever (connections opened later are untouched): a producer whose broker state
   * is lost, as after a broker restart.
   */
  poisonOpenConnections(errorCode: number): void;
  /**
   * Every topic in every metadata response carries `errorCode` from now on (on every connection),
   * until `undefined` is given: a cluster whose brokers do not know the topics yet.
   */
  failTopicMetadataWith(errorCode: number | undefined): void;
  /** Metadata responses whose topics were given the error so far. */
  readonly metadataResponsesFailed: number;
  close(): Promise<void>;
}

interface ProxiedConnection {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Correlation ids of produce requests on this connection whose responses are still due. */
  readonly produceCorrelationIds: Set<number>;
  /** The api version of each metadata request on this connection whose response is still due. */
  readonly metadataVersions: Map<number, number>;
  swallowCorrelationIds: Set<number>;
  poisonedWith: number | undefined;
}

export async function startKafkaFaultProxy(broker: { host: string; port: number }): Promise<KafkaFaultProxy> {
  const connections = new Set<ProxiedConnection>();
  let produceRequests = 0;
  let topicMetadataError: number | undefined;
  let metadataResponsesFailed = 0;
  /** Armed by `swallowNextProduceResponse`: the next produce request to claim it, and who to tell. */
  let swallowArmed = false;
  let swallowed: (() => void) | undefined;

  const server: Server = createServer((client) => {
    const upstream = connect(broker.port, broker.host);
    const connection: ProxiedConnection = {
      client,
      upstream,
      produceCorrelationIds: new Set(),
      metadataVersions: new Map(),
      swallowCorrelationIds: new Set(),
      poisonedWith: undefined,
    };
    connections.add(connection);
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
      connections.delete(connection);
    };
    client.on('error', closeBoth).on('close', closeBoth);
    upstream.on('error', closeBoth).on('close', closeBoth);

    forEachFrame(client, (frame) => {
      const apiKey = frame.readInt16BE(4);
      const correlationId = frame.readInt32BE(8);
      if (apiKey === METADATA_API_KEY) connection.metadataVersions.set(correlationId, frame.readInt16BE(6));
      if (apiKey === PRODUCE_API_KEY) {
        produceRequests += 1;
        connection.produceCorrelationIds.add(correlationId);
        if (swallowArmed) {
          swallowArmed = false;
          connection.swallowCorrelationIds.add(correlationId);
        }
      }
      upstream.write(frame);
    });
    forEachFrame(upstream, (frame) => {
      const correlationId = frame.readInt32BE(4);
      const isProduce = connection.produceCorrelationIds.delete(correlationId);
      const metadataVersion = connection.metadataVersions.get(correlationId);
      connection.metadataVersions.delete(correlationId);
      if (metadataVersion !== undefined && topicMetadataError !== undefined) {
        if (setTopicErrorCodes(frame, metadataVersion, topicMetadataError) > 0) metadataResponsesFailed += 1;
      }
      if (connection.swallowCorrelationIds.delete(correlationId)) {
        swallowed?.();
        swallowed = undefined;
        return;
      }
      if (isProduce && connection.poisonedWith !== undefined) {
        setFirstPartitionErrorCode(frame, connection.poisonedWith);
      }
      client.write(frame);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no TCP address');
  const port = address.port;

  return {
    socketFactory: ({ onConnect }) => connect({ host: '127.0.0.1', port }, onConnect),
    get produceRequests() {
      return produceRequests;
    },
    swallowNextProduceResponse: () =>
      new Promise<void>((resolve) => {
        swallowArmed = true;
        swallowed = resolve;
      }),
    poisonOpenConnections: (errorCode) => {
      for (const connection of connections) connection.poisonedWith = errorCode;
    },
    failTopicMetadataWith: (errorCode) => {
      topicMetadataError = errorCode;
    },
    get metadataResponsesFailed() {
      return metadataResponsesFailed;
    },
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const connection of connections) {
        connection.client.destroy();
        connection.upstream.destroy();
      }
      connections.clear();
      await closed;
    },
  };
}

/** Calls `onFrame` with each whole size-prefixed frame (size included) read from `socket`. */
function forEachFrame(socket: Socket, onFrame: (frame: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0);
      if (pending.length < 4 + size) break;
      onFrame(pending.subarray(0, 4 + size));
      pending = pending.subarray(4 + size);
    }
  });
}

/**
 * A produce response (versions 1 to 8, which kafkajs speaks): size, correlation id, then the
 * topics array (count; the first topic's name as an int16-prefixed string; its partitions array
 * (count; the first partition's index int32, then its error code int16).
 */
function setFirstPartitionErrorCode(frame: Buffer, errorCode: number): void {
  let position = 8;
  if (frame.readInt32BE(position) < 1) return;
  position += 4;
  position += 2 + frame.readInt16BE(position);
  if (frame.readInt32BE(position) < 1) return;
  position += 4 + 4;
  frame.writeInt16BE(errorCode, position);
}

/**
 * Sets the error code of every topic in a metadata response (versions 0 to 6, which kafkajs
 * speaks; none of them uses the flexible encoding) and returns how many topics it set: size,
 * correlation id, throttle time (v3+), brokers (node id, host, port, rack from v1), cluster id
 * (v2+), controller id (v1+), then the topics (error code, name, is-internal from v1, and
 * partitions: error code, index, leader, replicas, in-sync replicas, offline replicas from v5).
 */
function setTopicErrorCodes(frame: Buffer, version: number, errorCode: number): number {
  if (version > 6) throw new Error(`metadata response version ${version} is not understood`);
  let position = 8;
  const skipString = (): void => {
    const length = frame.readInt16BE(position);
    position += 2 + Math.max(0, length);
  };
  const skipInt32Array = (): void => {
    position += 4 + 4 * Math.max(0, frame.readInt32BE(position));
  };
  if (version >= 3) position += 4;
  const brokers = frame.readInt32BE(position);
  position += 4;
  for (let i = 0; i < brokers; i += 1) {
    position += 4;
    skipString();
    position += 4;
    if (version >= 1) skipString();
  }
  if (version >= 2) skipString();
  if (version >= 1) position += 4;
  const topics = frame.readInt32BE(position);
  position += 4;
  for (let i = 0; i < topics; i += 1) {
    frame.writeInt16BE(errorCode, position);
    position += 2;
    skipString();
    if (version >= 1) position += 1;
    const partitions = frame.readInt32BE(position);
    position += 4;
    for (let j = 0; j < partitions; j += 1) {
      position += 2 + 4 + 4;
      skipInt32Array();
      skipInt32Array();
      if (version >= 5) skipInt32Array();
    }
  }
  return topics;
}

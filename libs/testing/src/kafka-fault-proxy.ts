import { connect, createServer, type Server, type Socket } from 'node:net';
import { type ISocketFactory } from 'kafkajs';

/** Kafka's api key of a produce request (the protocol's request header, first field). */
const PRODUCE_API_KEY = 0;
/** Kafka's error code OUT_OF_ORDER_SEQUENCE_NUMBER. */
export const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;

/**
 * A loopback proxy between kafkajs and one broker that understands just enough of Kafka's
 * framing (a 4-byte size before each request and response; a request's api key and
 * correlation id; a response's correlation id) to break produce requests the way a dying broker
 * does: the request reaches the broker and is stored, its answer never comes back; or the broker
 * answers a produce with an error it would give a producer it has lost track of.
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
  close(): Promise<void>;
}

interface ProxiedConnection {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Correlation ids of produce requests on this connection whose responses are still due. */
  readonly produceCorrelationIds: Set<number>;
  swallowCorrelationIds: Set<number>;
  poisonedWith: number | undefined;
}

export async function startKafkaFaultProxy(broker: { host: string; port: number }): Promise<KafkaFaultProxy> {
  const connections = new Set<ProxiedConnection>();
  let produceRequests = 0;
  /** Armed by `swallowNextProduceResponse`: the next produce request to claim it, and who to tell. */
  let swallowArmed = false;
  let swallowed: (() => void) | undefined;

  const server: Server = createServer((client) => {
    const upstream = connect(broker.port, broker.host);
    const connection: ProxiedConnection = {
      client,
      upstream,
      produceCorrelationIds: new Set(),
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

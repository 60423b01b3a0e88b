import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import { type ConsumedRecord, type HandledRecords } from './consumed-records';
import { type ContractConsumer, type ContractConsumerOptions } from './contract-consumer';

export type ConsumerHandlers = Required<Pick<ContractConsumerOptions, 'handleRecord' | 'handleRecords'>>;

/**
 * Adapts a ContractConsumer to Nest's microservice layer: a record of topic `inboundEvents`
 * is handled by the controller method decorated `@EventPattern('inboundEvents')`. Offsets
 * are committed only after that method's promise (or observable) completes.
 */
export class KafkaConsumerServer extends Server implements CustomTransportStrategy {
  private consumer: ContractConsumer | undefined;

  constructor(private readonly createConsumer: (handlers: ConsumerHandlers) => ContractConsumer) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    const consumer = this.createConsumer({
      handleRecord: async (record) => {
        await this.dispatch(record.topicKey, record);
      },
      handleRecords: async (records) =>
        (await this.dispatch(records[0]?.topicKey ?? '', records)) as void | HandledRecords,
    });
    this.consumer = consumer;
    consumer.start().then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  async close(): Promise<void> {
    await this.consumer?.stop();
  }

  on(): never {
    throw new Error('KafkaConsumerServer does not emit transport events; use the consumer state instead');
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }

  /** Resolves with the handler's answer (what a batched handler of a decoding route rejected). */
  private async dispatch(topicKey: string, payload: ConsumedRecord | ConsumedRecord[]): Promise<unknown> {
    const handler = this.getHandlerByPattern(topicKey);
    if (handler === null) {
      // A route without a handler is a wiring bug; failing keeps the record uncommitted.
      throw new Error(`no @EventPattern('${topicKey}') handler is registered`);
    }
    const result: unknown = await handler(payload);
    return isObservable(result) ? lastValueFrom(result, { defaultValue: undefined }) : result;
  }
}

import { type CustomTransportStrategy, Server } from '@nestjs/microservices';
import { isObservable, lastValueFrom } from 'rxjs';
import {
  type ConsumedRecord,
  type ContractConsumer,
  type ContractConsumerOptions,
} from './contract-consumer';

/**
 * Adapts a ContractConsumer to Nest's microservice layer: a record of topic `inboundEvents`
 * is handled by the controller method decorated `@EventPattern('inboundEvents')`. Offsets
 * are committed only after that method's promise (or observable) completes.
 */
export class KafkaConsumerServer extends Server implements CustomTransportStrategy {
  private consumer: ContractConsumer | undefined;

  constructor(
    private readonly createConsumer: (
      handleRecord: ContractConsumerOptions['handleRecord'],
    ) => ContractConsumer,
  ) {
    super();
  }

  listen(callback: (error?: unknown) => void): void {
    const consumer = this.createConsumer((record) => this.dispatch(record));
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

  private async dispatch(record: ConsumedRecord): Promise<void> {
    const handler = this.getHandlerByPattern(record.topicKey);
    if (handler === null) {
      // A route without a handler is a wiring bug; failing keeps the record uncommitted.
      throw new Error(`no @EventPattern('${record.topicKey}') handler is registered`);
    }
    const result: unknown = await handler(record);
    if (isObservable(result)) {
      await lastValueFrom(result, { defaultValue: undefined });
    }
  }
}

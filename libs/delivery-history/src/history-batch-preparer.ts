import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { type ServiceLogger } from '@skyhook/observability';
import {
  type EncodedDeliveryEvent,
  packDeliveryEvents,
  type PreparedHistoryBatch,
} from './delivery-history-preparation';
import { type PreparationReply, type PreparationRequest } from './delivery-history-preparation.worker';

/** The compiled preparation thread, beside this file. */
export const PREPARATION_WORKER_SCRIPT = join(__dirname, 'delivery-history-preparation.worker.js');

interface Waiting {
  readonly resolve: (prepared: PreparedHistoryBatch) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Prepares calls of delivery events (`prepareHistoryBatch`) on a worker thread of its own, so
 * that decoding, validation, planning and COPY text (most of the service's CPU) run beside the
 * main thread's fetching and writing instead of between them. Requests are answered in order.
 * Should the thread die, the calls in hand fail (the consumer retries them) and the next call
 * starts a new thread.
 */
export class HistoryBatchPreparer {
  private worker: Worker | undefined;
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();

  constructor(
    private readonly logger: ServiceLogger,
    private readonly script = PREPARATION_WORKER_SCRIPT,
  ) {}

  prepare(
    records: readonly EncodedDeliveryEvent[],
    oldestRetainedDayMs: number,
  ): Promise<PreparedHistoryBatch> {
    const worker = this.worker ?? this.startWorker();
    const packed = packDeliveryEvents(records);
    const request: PreparationRequest = { id: this.nextId++, packed, oldestRetainedDayMs };
    return new Promise((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      worker.postMessage(request, [packed.bytes, packed.lengths.buffer]);
    });
  }

  /** Starts the thread ahead of the first call, so that its start-up is not the first call's. */
  start(): void {
    if (this.worker === undefined) this.startWorker();
  }

  /** Ends the thread; calls still in hand fail. */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }

  private startWorker(): Worker {
    const worker = new Worker(this.script);
    // The thread never keeps the process alive on its own: the service exits when it is done.
    worker.unref();
    worker.on('message', (reply: PreparationReply) => {
      const waiting = this.waiting.get(reply.id);
      if (waiting === undefined) return;
      this.waiting.delete(reply.id);
      if ('error' in reply) waiting.reject(new Error(`preparing delivery events failed: ${reply.error}`));
      else waiting.resolve(reply.prepared);
    });
    worker.on('error', (error) => {
      this.logger.error({ err: error }, 'the delivery history preparation thread failed');
    });
    worker.on('exit', (code) => {
      if (this.worker === worker) this.worker = undefined;
      const failure = new Error(`the delivery history preparation thread exited (code ${code})`);
      for (const waiting of this.waiting.values()) waiting.reject(failure);
      this.waiting.clear();
    });
    this.worker = worker;
    return worker;
  }
}

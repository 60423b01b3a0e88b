import { parentPort } from 'node:worker_threads';
import {
  type PackedDeliveryEvents,
  type PreparedHistoryBatch,
  prepareHistoryBatch,
  unpackDeliveryEvents,
} from './delivery-history-preparation';

/** What the main thread asks of the preparation thread. */
export interface PreparationRequest {
  readonly id: number;
  readonly packed: PackedDeliveryEvents;
  readonly oldestRetainedDayMs: number;
}

/** Its answer: the prepared batch, or why there is none (a bug, never a broken record). */
export type PreparationReply =
  | { readonly id: number; readonly prepared: PreparedHistoryBatch }
  | { readonly id: number; readonly error: string };

const port = parentPort;
if (port === null) throw new Error('the delivery history preparation runs on a worker thread');

port.on('message', (request: PreparationRequest) => {
  let reply: PreparationReply;
  try {
    const records = unpackDeliveryEvents(request.packed);
    reply = { id: request.id, prepared: prepareHistoryBatch(records, request.oldestRetainedDayMs) };
  } catch (error) {
    reply = {
      id: request.id,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    };
  }
  port.postMessage(reply);
});

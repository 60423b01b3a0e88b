import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError, type PartitionMetadata } from 'kafkajs';
import { KAFKA_TOPICS, maxMessageBytesOf, RECORD_SIZE_LIMITS } from '@skyhook/contracts';
import { keyHashPartitioner } from './key-hash-partitioner';
import {
  expectedPartitionOf,
  isRecordTooLarge,
  produceBoundsOf,
  RECORD_BATCH_OVERHEAD_BYTES,
  recordBytesOf,
  sendHalvingWhenTooLarge,
  splitForProduce,
} from './produce-request-bounds';

const KIB = 1_024;

interface Item {
  readonly id: number;
  readonly partition: number;
  readonly bytes: number;
}

const item = (id: number, partition: number, bytes: number): Item => ({ id, partition, bytes });
const split = (items: Item[], maxBatchBytes: number, maxRecords = 1_000, maxRequestBytes = 100 * KIB) =>
  splitForProduce(
    items,
    (entry) => entry.bytes,
    (entry) => entry.partition,
    { maxBatchBytes, maxRecords, maxRequestBytes },
  );
const ids = (requests: Item[][]) => requests.map((request) => request.map((entry) => entry.id));

function tooLarge(type = 'MESSAGE_TOO_LARGE'): KafkaJSProtocolError {
  return new KafkaJSProtocolError({ type, code: 10, retriable: false, message: 'too large' } as never);
}

describe('splitting produce requests by bytes', () => {
  it('keeps each partition of a request under the batch limit, and the records in order', () => {
    // 256 KiB records to one partition: four do not fit a 1 MiB batch with the batch header.
    const records = Array.from({ length: 10 }, (_, i) => item(i, 7, 256 * KIB));
    const { requests, oversized } = split(records, 1_024 * KIB, 1_000, 100 * 1_024 * KIB);
    expect(oversized).toEqual([]);
    expect(ids(requests)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]);
  });

  it('puts records of different partitions in one request up to each partition’s limit', () => {
    const records = [item(0, 0, 600), item(1, 1, 600), item(2, 0, 600), item(3, 2, 300)];
    const { requests } = split(records, 1_000 + RECORD_BATCH_OVERHEAD_BYTES);
    expect(ids(requests)).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  it('bounds the whole request and the record count too', () => {
    const records = Array.from({ length: 6 }, (_, i) => item(i, i, 400));
    expect(ids(split(records, 10 * KIB, 1_000, 1_000).requests)).toEqual([
      [0, 1],
      [2, 3],
      [4, 5],
    ]);
    expect(ids(split(records, 10 * KIB, 4).requests)).toEqual([
      [0, 1, 2, 3],
      [4, 5],
    ]);
  });

  it('sets apart a record that could never fit a batch, and goes on with the rest', () => {
    const records = [item(0, 0, 100), item(1, 0, 2_000), item(2, 0, 100)];
    const { requests, oversized } = split(records, 1_000);
    expect(ids(requests)).toEqual([[0, 2]]);
    expect(oversized.map((entry) => entry.id)).toEqual([1]);
  });

  it('holds each topic’s partitions to that topic’s limit when a request carries several topics', () => {
    const records = [
      { id: 0, partition: 'events:0', bytes: 600, limit: 2_000 },
      { id: 1, partition: 'commands:0', bytes: 600, limit: 1_000 },
      { id: 2, partition: 'events:0', bytes: 600, limit: 2_000 },
      { id: 3, partition: 'commands:0', bytes: 600, limit: 1_000 },
      { id: 4, partition: 'commands:0', bytes: 1_500, limit: 1_000 },
    ];
    const { requests, oversized } = splitForProduce(
      records,
      (entry) => entry.bytes,
      (entry) => entry.partition,
      { maxBatchBytes: 0, maxRecords: 100, maxRequestBytes: 100 * KIB },
      (entry) => entry.limit,
    );
    expect(requests.map((request) => request.map((entry) => entry.id))).toEqual([[0, 1, 2], [3]]);
    expect(oversized.map((entry) => entry.id)).toEqual([4]);
  });

  it('gives nothing to send for nothing', () => {
    expect(split([], 1_000)).toEqual({ requests: [], oversized: [] });
  });
});

describe('record size and partition estimates', () => {
  it('counts key, value and headers with room for the varints around them', () => {
    const message = { key: 'sub_1', value: Buffer.alloc(1_000), headers: { 'skyhook-schema': 'x@1' } };
    const bytes = recordBytesOf(message);
    expect(bytes).toBeGreaterThanOrEqual(5 + 1_000 + 14 + 3);
    expect(bytes).toBeLessThan(5 + 1_000 + 14 + 3 + 64);
  });

  it('predicts the partition the producer’s partitioner picks for a key', () => {
    const partitionMetadata: PartitionMetadata[] = Array.from({ length: 24 }, (_, partitionId) => ({
      partitionErrorCode: 0,
      partitionId,
      leader: 1,
      replicas: [1],
      isr: [1],
    }));
    const partitioner = keyHashPartitioner();
    for (const key of ['sub_a', 'sub_b', 'sub_0123456789abcdef', 'é']) {
      expect(expectedPartitionOf({ key }, 24)).toBe(
        partitioner({ topic: 't', partitionMetadata, message: { key, value: null } }),
      );
    }
    expect(expectedPartitionOf({ key: 'sub_a', partition: 3 }, 24)).toBe(3);
  });

  it('bounds a topic’s batches by the size its topic is provisioned with', () => {
    expect(produceBoundsOf('deliveryRequests', 500)).toMatchObject({
      maxBatchBytes: RECORD_SIZE_LIMITS.deliveryRequest,
      maxRecords: 500,
    });
    expect(maxMessageBytesOf('subscriptionCommands')).toBe(RECORD_SIZE_LIMITS.brokerDefault);
    expect(KAFKA_TOPICS.deliveryRequestsDeadLetter.config['max.message.bytes']).toBe(
      String(RECORD_SIZE_LIMITS.deadLetter),
    );
  });
});

describe('classifying a send that is too large', () => {
  it('recognises the broker’s size answers, also wrapped by kafkajs’ retrier', () => {
    expect(isRecordTooLarge(tooLarge())).toBe(true);
    expect(isRecordTooLarge(tooLarge('RECORD_LIST_TOO_LARGE'))).toBe(true);
    expect(
      isRecordTooLarge(new KafkaJSNumberOfRetriesExceeded(tooLarge(), { retryCount: 0, retryTime: 1 })),
    ).toBe(true);
  });

  it('recognises a producer’s own wrapper of the refusal that names the broker’s answer', () => {
    const wrapped = Object.assign(new Error('the broker refused the records'), {
      brokerError: 'MESSAGE_TOO_LARGE',
    });
    expect(isRecordTooLarge(wrapped)).toBe(true);
    expect(isRecordTooLarge(Object.assign(new Error('refused'), { brokerError: 'INVALID_RECORD' }))).toBe(
      false,
    );
  });

  it('does not take other failures for a size problem', () => {
    expect(isRecordTooLarge(tooLarge('NOT_LEADER_FOR_PARTITION'))).toBe(false);
    expect(isRecordTooLarge(new Error('Connection closed'))).toBe(false);
    expect(isRecordTooLarge(undefined)).toBe(false);
  });

  it('halves a refused send down to the single records that are too large alone', async () => {
    const written: number[][] = [];
    const send = (batch: readonly number[]) => {
      // The broker's limit: 3 records at most, and record 5 is too large alone.
      if (batch.length > 3 || batch.includes(5)) return Promise.reject(tooLarge());
      written.push([...batch]);
      return Promise.resolve();
    };
    const refused = await sendHalvingWhenTooLarge([1, 2, 3, 4, 5, 6, 7, 8], send);
    expect(refused).toEqual([5]);
    expect(written).toEqual([[1, 2], [3, 4], [6], [7, 8]]);
  });

  it('passes any other failure on, for the caller to retry', async () => {
    const send = () => Promise.reject(new Error('Connection closed'));
    await expect(sendHalvingWhenTooLarge([1, 2], send)).rejects.toThrow('Connection closed');
  });
});

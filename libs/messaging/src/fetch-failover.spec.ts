import { fetchFailureKind, installFetchFailover, recoverFromFetchFailure } from './fetch-failover';

function protocolError(type: string): Error {
  return Object.assign(new Error(type), { type });
}

function namedError(name: string): Error {
  return Object.assign(new Error(name), { name });
}

function groupWithMetadata(refresh: () => Promise<void> = () => Promise.resolve()) {
  const group = {
    refreshes: 0,
    cluster: {
      refreshMetadata: () => {
        group.refreshes += 1;
        return refresh();
      },
    },
  };
  return group;
}

describe('the fetch failover', () => {
  it('answers a moved leadership with fresh metadata, without re-joining the group', async () => {
    const group = groupWithMetadata();
    const kafkajsRecovery = jest.fn(() => Promise.resolve());
    await recoverFromFetchFailure(group, protocolError('NOT_LEADER_FOR_PARTITION'), kafkajsRecovery, 0);
    await recoverFromFetchFailure(group, protocolError('FENCED_LEADER_EPOCH'), kafkajsRecovery, 0);
    expect(group.refreshes).toBe(2);
    expect(kafkajsRecovery).not.toHaveBeenCalled();
  });

  it('keeps the other fetchers going while a broker cannot be reached: pauses, refreshes, does not throw', async () => {
    const group = groupWithMetadata(() => Promise.reject(namedError('KafkaJSConnectionError')));
    const kafkajsRecovery = jest.fn(() => Promise.reject(new Error('would stop every fetcher')));
    const startedAt = Date.now();
    await expect(
      recoverFromFetchFailure(group, namedError('KafkaJSConnectionError'), kafkajsRecovery, 30),
    ).resolves.toBeUndefined();
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(25);
    expect(group.refreshes).toBe(1);
    expect(kafkajsRecovery).not.toHaveBeenCalled();
  });

  it("leaves everything else to kafkajs' own recovery, a vanished topic included", async () => {
    const group = groupWithMetadata();
    const kafkajsRecovery = jest.fn(() => Promise.reject(new Error('kafkajs decided')));
    await expect(
      recoverFromFetchFailure(group, protocolError('UNKNOWN_TOPIC_OR_PARTITION'), kafkajsRecovery, 0),
    ).rejects.toThrow('kafkajs decided');
    await expect(
      recoverFromFetchFailure(group, namedError('KafkaJSOffsetOutOfRange'), kafkajsRecovery, 0),
    ).rejects.toThrow('kafkajs decided');
    expect(kafkajsRecovery).toHaveBeenCalledTimes(2);
    expect(group.refreshes).toBe(0);
  });

  it('tells which failures a fetch survives', () => {
    expect(fetchFailureKind(protocolError('LEADER_NOT_AVAILABLE'))).toBe('leadership-moved');
    expect(fetchFailureKind(protocolError('UNKNOWN_LEADER_EPOCH'))).toBe('leadership-moved');
    expect(fetchFailureKind(namedError('KafkaJSRequestTimeoutError'))).toBe('broker-unreachable');
    expect(fetchFailureKind(protocolError('UNKNOWN_TOPIC_OR_PARTITION'))).toBeUndefined();
    expect(fetchFailureKind(protocolError('REBALANCE_IN_PROGRESS'))).toBeUndefined();
    expect(fetchFailureKind(undefined)).toBeUndefined();
  });

  it('installs on the kafkajs version in use (fails if its ConsumerGroup no longer has recoverFromFetch)', () => {
    expect(() => installFetchFailover()).not.toThrow();
    expect(() => installFetchFailover()).not.toThrow();
  });
});

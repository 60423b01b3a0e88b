import { setTimeout as sleep } from 'node:timers/promises';
import {
  type CoordinatedGroup,
  heartbeatAcrossFailover,
  installCoordinatorFailover,
  isCoordinatorLost,
  withCoordinatorFailover,
} from './coordinator-failover';

function protocolError(type: string): Error {
  return Object.assign(new Error(type), { type });
}

function groupMovingTo(coordinators: unknown[]): CoordinatedGroup & { finds: number } {
  const group = {
    groupId: 'skyhook.dispatcher',
    coordinator: 'broker-1' as unknown,
    offsetManager: { coordinator: 'broker-1' as unknown },
    finds: 0,
    cluster: {
      refreshMetadata: () => Promise.resolve(),
      findGroupCoordinator: () => {
        group.finds += 1;
        const next = coordinators.shift();
        return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
      },
    },
  };
  return group;
}

describe('the consumer group coordinator failover', () => {
  it('finds the moved coordinator and retries the call there, commits included', async () => {
    const group = groupMovingTo(['broker-2']);
    const calls: unknown[] = [];
    const result = await withCoordinatorFailover(group, () => {
      calls.push(group.coordinator);
      return group.coordinator === 'broker-1'
        ? Promise.reject(protocolError('NOT_COORDINATOR_FOR_GROUP'))
        : Promise.resolve('heartbeat answered');
    });
    expect(result).toBe('heartbeat answered');
    expect(calls).toEqual(['broker-1', 'broker-2']);
    expect(group.offsetManager?.coordinator).toBe('broker-2');
  });

  it('keeps asking while the coordinator cannot be found yet (a killed broker not yet fenced)', async () => {
    const unreachable = Object.assign(new Error('connect ECONNREFUSED'), { name: 'KafkaJSConnectionError' });
    const group = groupMovingTo([unreachable, 'broker-1', 'broker-3']);
    const result = await withCoordinatorFailover(group, () =>
      group.coordinator === 'broker-3' ? Promise.resolve('ok') : Promise.reject(unreachable),
    );
    expect(result).toBe('ok');
    expect(group.finds).toBe(3);
  });

  it('leaves a changed group to kafkajs: an unknown member is re-joined, not retried', async () => {
    const group = groupMovingTo(['broker-2']);
    let calls = 0;
    await expect(
      withCoordinatorFailover(group, () => {
        calls += 1;
        return Promise.reject(protocolError('UNKNOWN_MEMBER_ID'));
      }),
    ).rejects.toMatchObject({ type: 'UNKNOWN_MEMBER_ID' });
    expect(calls).toBe(1);
    expect(group.finds).toBe(0);
  });

  it('gives the last error to kafkajs once the deadline has passed', async () => {
    const group = groupMovingTo(new Array(100).fill('broker-1'));
    await expect(
      withCoordinatorFailover(group, () => Promise.reject(protocolError('NOT_COORDINATOR_FOR_GROUP')), 300),
    ).rejects.toMatchObject({ type: 'NOT_COORDINATOR_FOR_GROUP' });
    expect(group.finds).toBeGreaterThan(0);
  });

  it('answers a heartbeat at once while the coordinator is looked for, then heartbeats the one found', async () => {
    const group = groupMovingTo(['broker-2']);
    const heartbeats: unknown[] = [];
    const heartbeat = () => {
      heartbeats.push(group.coordinator);
      return group.coordinator === 'broker-1'
        ? Promise.reject(protocolError('NOT_COORDINATOR_FOR_GROUP'))
        : Promise.resolve('heartbeat answered');
    };
    // Consumption is not held: the failed heartbeat resolves, and so does one made during the search.
    await expect(heartbeatAcrossFailover(group, heartbeat)).resolves.toBeUndefined();
    await expect(heartbeatAcrossFailover(group, heartbeat)).resolves.toBeUndefined();
    expect(heartbeats).toEqual(['broker-1']);
    await sleep(100);
    expect(group.coordinator).toBe('broker-2');
    expect(group.offsetManager?.coordinator).toBe('broker-2');
    await expect(heartbeatAcrossFailover(group, heartbeat)).resolves.toBe('heartbeat answered');
    expect(heartbeats).toEqual(['broker-1', 'broker-2']);
  });

  it('gives a heartbeat error to kafkajs when the group changed, or when no coordinator turns up in time', async () => {
    const changed = groupMovingTo([]);
    await expect(
      heartbeatAcrossFailover(changed, () => Promise.reject(protocolError('REBALANCE_IN_PROGRESS'))),
    ).rejects.toMatchObject({ type: 'REBALANCE_IN_PROGRESS' });
    expect(changed.finds).toBe(0);

    const unreachable = Object.assign(new Error('connect ECONNREFUSED'), { name: 'KafkaJSConnectionError' });
    const gone = groupMovingTo(new Array(100).fill(unreachable));
    const heartbeat = () => Promise.reject(unreachable);
    const startedAt = Date.now();
    let outcome: unknown;
    while (outcome === undefined && Date.now() - startedAt < 2_000) {
      outcome = await heartbeatAcrossFailover(gone, heartbeat, 300).then(
        () => undefined,
        (error: unknown) => error,
      );
      await sleep(20);
    }
    expect(outcome).toBe(unreachable);
    expect(gone.finds).toBeGreaterThan(0);
  });

  it('tells a lost coordinator from everything else', () => {
    expect(isCoordinatorLost(protocolError('NOT_COORDINATOR_FOR_GROUP'))).toBe(true);
    expect(isCoordinatorLost(protocolError('GROUP_COORDINATOR_NOT_AVAILABLE'))).toBe(true);
    expect(
      isCoordinatorLost(Object.assign(new Error('closed'), { name: 'KafkaJSConnectionClosedError' })),
    ).toBe(true);
    expect(isCoordinatorLost(protocolError('REBALANCE_IN_PROGRESS'))).toBe(false);
    expect(isCoordinatorLost(protocolError('ILLEGAL_GENERATION'))).toBe(false);
    expect(isCoordinatorLost(new Error('boom'))).toBe(false);
    expect(isCoordinatorLost(undefined)).toBe(false);
  });

  it('installs on the kafkajs version in use (fails if its ConsumerGroup no longer has the calls)', () => {
    expect(() => installCoordinatorFailover()).not.toThrow();
    expect(() => installCoordinatorFailover()).not.toThrow();
  });
});

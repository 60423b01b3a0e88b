import { AssignerProtocol, type Cluster, type Logger } from 'kafkajs';
import { coLocatedAssigner, coLocatedOwners, partitionAlignment } from './co-located-assigner';

/** Kafka's default partitioner's choice is `hash mod partitions`; any hash shows the property. */
const partitionOf = (hash: number, partitions: number) => hash % partitions;

describe('coLocatedOwners', () => {
  const topics = { requests: 24, parked: 12, retries1s: 6, retries1m: 6 };
  const partitionsByTopic = Object.fromEntries(
    Object.entries(topics).map(([topic, count]) => [topic, Array.from({ length: count }, (_, p) => p)]),
  );

  /** Each group has its own member ids; the processes are the same. */
  function ownersByGroup(processes: string[]) {
    return Object.keys(topics).map((topic) => {
      const members = processes.map((processId) => ({
        memberId: `${topic}-${processId}-${Math.random()}`,
        processId,
      }));
      const owners = coLocatedOwners(
        members,
        { [topic]: partitionsByTopic[topic]! },
        partitionAlignment(Object.values(topics)),
      );
      const processOf = new Map(members.map((member) => [member.memberId, member.processId]));
      const ownerOf = new Map<number, string>();
      for (const [memberId, assignment] of owners) {
        for (const partition of assignment[topic] ?? []) ownerOf.set(partition, processOf.get(memberId)!);
      }
      return { topic, ownerOf };
    });
  }

  it.each([[['a']], [['a', 'b']], [['c', 'a', 'b']], [['a', 'b', 'c', 'd']]])(
    'gives every partition to one member and a key’s partitions of every topic to one process (%j)',
    (processes) => {
      const groups = ownersByGroup(processes);
      for (const { topic, ownerOf } of groups) {
        expect(ownerOf.size).toBe(topics[topic as keyof typeof topics]);
      }
      for (let hash = 0; hash < 1_000; hash += 1) {
        const owners = new Set(
          groups.map(({ topic, ownerOf }) =>
            ownerOf.get(partitionOf(hash, topics[topic as keyof typeof topics])),
          ),
        );
        expect(owners.size).toBe(1);
      }
    },
  );

  it('spreads the partitions evenly when the processes divide the alignment', () => {
    const [requests] = ownersByGroup(['a', 'b', 'c']);
    const counts = new Map<string, number>();
    for (const owner of requests!.ownerOf.values()) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    expect([...counts.values()]).toEqual([8, 8, 8]);
  });

  it('aligns on the greatest common divisor of the partition counts', () => {
    expect(partitionAlignment([24, 12, 6, 6])).toBe(6);
    expect(partitionAlignment([24, 12])).toBe(12);
    expect(partitionAlignment([7, 12])).toBe(1);
    expect(partitionAlignment([])).toBe(1);
  });
});

describe('coLocatedAssigner', () => {
  it('reads each member’s process from its subscription and assigns by it', async () => {
    const cluster = {
      findTopicPartitionMetadata: () => Array.from({ length: 6 }, (_, partitionId) => ({ partitionId })),
    } as unknown as Cluster;
    const make = (processId: string) =>
      coLocatedAssigner(processId, 6)({ cluster, groupId: 'g', logger: {} as Logger });
    const members = ['p2', 'p1'].map((processId) => ({
      memberId: `m-${processId}`,
      memberMetadata: make(processId).protocol({ topics: ['t'] }).metadata,
    }));
    const assigned = await make('p1').assign({ members, topics: ['t'] });
    const decoded = Object.fromEntries(
      assigned.map(({ memberId, memberAssignment }) => [
        memberId,
        AssignerProtocol.MemberAssignment.decode(memberAssignment)!.assignment,
      ]),
    );
    expect(decoded).toEqual({ 'm-p1': { t: [0, 2, 4] }, 'm-p2': { t: [1, 3, 5] } });
  });
});

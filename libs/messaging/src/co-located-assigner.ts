import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

/** The group protocol's name: members that all know it are assigned by it. */
export const CO_LOCATED_ASSIGNER_NAME = 'SkyhookCoLocatedAssigner';

/**
 * Who owns a partition: members sorted by the process they run in, partition `p` of any topic to
 * the member at `(p mod alignment) mod members`. A key hashes to partition `h mod P` of a topic
 * with `P` partitions; when `alignment` divides every `P`, `p mod alignment` is `h mod alignment`
 * whatever the topic, so the key's partitions of every topic go to the member at the same place.
 * Several groups whose members are the same processes (each process one member of each) thus
 * give a key's partitions of all their topics to one process.
 */
export function coLocatedOwners(
  members: readonly { readonly memberId: string; readonly processId: string }[],
  partitionsByTopic: Readonly<Record<string, readonly number[]>>,
  alignment: number,
): Map<string, Record<string, number[]>> {
  const sorted = [...members].sort(
    (a, b) => a.processId.localeCompare(b.processId) || a.memberId.localeCompare(b.memberId),
  );
  const owners = new Map<string, Record<string, number[]>>();
  if (sorted.length === 0) return owners;
  for (const [topic, partitions] of Object.entries(partitionsByTopic)) {
    for (const partition of partitions) {
      const owner = sorted[(partition % alignment) % sorted.length]!.memberId;
      const assignment = owners.get(owner) ?? {};
      (assignment[topic] ??= []).push(partition);
      owners.set(owner, assignment);
    }
  }
  return owners;
}

/**
 * A kafkajs partition assigner that co-locates (`coLocatedOwners`): each member says which process
 * it runs in (`processId`, in its subscription's user data), and the leader gives a key's
 * partitions of every topic to one process. The dispatcher's groups use it so that everything
 * one endpoint is sent (first attempts, retries, parked deliveries) is sent by one process,
 * which alone can then hold the endpoint to its rate limit (ADR 0032).
 *
 * A member that sends no process id (an older version during a rolling upgrade) counts as a
 * process of its own; the group only uses this assigner once every member offers it.
 */
export function coLocatedAssigner(processId: string, alignment: number): PartitionAssigner {
  return ({ cluster }) => ({
    name: CO_LOCATED_ASSIGNER_NAME,
    version: 1,
    assign({ members, topics }) {
      const partitionsByTopic: Record<string, number[]> = {};
      for (const topic of topics) {
        partitionsByTopic[topic] = cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId);
      }
      const identified = members.map(({ memberId, memberMetadata }) => {
        const userData = AssignerProtocol.MemberMetadata.decode(memberMetadata)?.userData;
        const process = userData === undefined || userData.length === 0 ? memberId : userData.toString();
        return { memberId, processId: process };
      });
      const owners = coLocatedOwners(identified, partitionsByTopic, alignment);
      const assignments = members.map(({ memberId }) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 1,
          assignment: owners.get(memberId) ?? {},
          userData: Buffer.alloc(0),
        }),
      }));
      return Promise.resolve(assignments);
    },
    protocol({ topics }) {
      return {
        name: CO_LOCATED_ASSIGNER_NAME,
        metadata: AssignerProtocol.MemberMetadata.encode({
          version: 1,
          topics,
          userData: Buffer.from(processId),
        }),
      };
    },
  });
}

/** The largest alignment that divides every count: their greatest common divisor. */
export function partitionAlignment(partitionCounts: readonly number[]): number {
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  return partitionCounts.reduce((acc, count) => gcd(acc, count), 0) || 1;
}

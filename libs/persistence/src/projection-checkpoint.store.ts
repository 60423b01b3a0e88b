import { type EntityManager } from 'typeorm';
import { ProjectionCheckpoint } from './entities/projection-checkpoint.entity';

/**
 * Reads and advances a projection's position per topic partition, inside the caller's
 * transaction. Positions only move forward, so a late re-delivery cannot rewind them.
 */
export class ProjectionCheckpointStore {
  constructor(readonly projection: string) {}

  async nextOffsets(manager: EntityManager, topic: string): Promise<Map<number, string>> {
    const rows = await manager.find(ProjectionCheckpoint, { where: { projection: this.projection, topic } });
    return new Map(rows.map((row) => [row.partition, row.nextOffset]));
  }

  async advance(manager: EntityManager, topic: string, partition: number, nextOffset: string): Promise<void> {
    await manager.query(
      `INSERT INTO projection_checkpoints (projection, topic, partition, next_offset, updated_at)
       VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (projection, topic, partition) DO UPDATE
         SET next_offset = GREATEST(projection_checkpoints.next_offset, EXCLUDED.next_offset),
             updated_at = now()`,
      [this.projection, topic, partition, nextOffset],
    );
  }
}

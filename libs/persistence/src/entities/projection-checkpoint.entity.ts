import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * How far a projection has applied a topic partition. Written in the same transaction as
 * the projected rows, so a projector that restarts resumes exactly where its data ends:
 * nothing is applied twice and nothing is skipped, whatever Kafka re-delivers.
 */
@Entity({ name: 'projection_checkpoints' })
export class ProjectionCheckpoint {
  @PrimaryColumn({ type: 'text' })
  projection!: string;

  @PrimaryColumn({ type: 'text' })
  topic!: string;

  @PrimaryColumn({ type: 'integer' })
  partition!: number;

  /** The next offset to apply (Kafka's committed-offset convention). */
  @Column({ name: 'next_offset', type: 'bigint' })
  nextOffset!: string;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}

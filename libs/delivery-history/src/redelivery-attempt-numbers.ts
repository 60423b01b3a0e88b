import { Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';

export interface RedeliveryCandidate {
  readonly deliveryId: string;
  /** The highest attempt number history has recorded for the delivery. */
  readonly attemptCount: number;
}

/**
 * Hands out the attempt numbers of resends and replays. History only records an attempt once
 * the dispatcher has made it, so "history's count + 1" alone would give two quick resends of a
 * delivery the same number, and history (keyed by delivery and attempt number) would keep only
 * one of them. Each reservation takes one past both history's count and the last number handed
 * out. Attempt 1 is always fan-out's, so a redelivery is attempt 2 at least.
 */
@Injectable()
export class RedeliveryAttemptNumbers {
  constructor(private readonly dataSource: DataSource) {}

  /** The attempt number reserved for each delivery id (within `manager`'s transaction if given). */
  async reserve(
    candidates: readonly RedeliveryCandidate[],
    manager?: EntityManager,
  ): Promise<Map<string, number>> {
    // One row per delivery id: a statement cannot update a row twice.
    const firstFree = new Map<string, number>();
    for (const { deliveryId, attemptCount } of candidates) {
      firstFree.set(deliveryId, Math.max(firstFree.get(deliveryId) ?? 2, attemptCount + 1));
    }
    if (firstFree.size === 0) return new Map();
    const rows = await (manager ?? this.dataSource.manager).query<
      { delivery_id: string; last_attempt_number: number }[]
    >(
      `INSERT INTO redelivery_attempt_numbers AS r (delivery_id, last_attempt_number)
       SELECT * FROM unnest($1::text[], $2::int[])
       ON CONFLICT (delivery_id) DO UPDATE
         SET last_attempt_number = GREATEST(r.last_attempt_number + 1, EXCLUDED.last_attempt_number),
             updated_at = now()
       RETURNING delivery_id, last_attempt_number`,
      [[...firstFree.keys()], [...firstFree.values()]],
    );
    return new Map(rows.map((row) => [row.delivery_id, row.last_attempt_number]));
  }

  /** Forgets reservations not touched since `cutoff` (history no longer keeps those deliveries). */
  async forgetUntouchedSince(cutoff: Date): Promise<number> {
    const [, affected] = await this.dataSource.query<[unknown, number]>(
      'DELETE FROM redelivery_attempt_numbers WHERE updated_at < $1',
      [cutoff.toISOString()],
    );
    return affected;
  }
}

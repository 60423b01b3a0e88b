import { Inject, Injectable } from '@nestjs/common';
import { DataSource, type EntityManager } from 'typeorm';
import { type OrganisationSnapshot, organisationSnapshotContract } from '@skyhook/contracts';
import { ContractProducer, OutboxRelay } from '@skyhook/messaging';
import { SERVICE_LOGGER, type ServiceLogger } from '@skyhook/observability';

/**
 * Organisation snapshots (catalogue and default policy) for the services that match and
 * deliver without a database. Written with the change they describe, under the
 * organisation's row lock, so the last snapshot on the topic is always the current state.
 */
@Injectable()
export class OrganisationOutbox extends OutboxRelay<OrganisationSnapshot> {
  constructor(
    dataSource: DataSource,
    producer: ContractProducer,
    @Inject(SERVICE_LOGGER) logger: ServiceLogger,
  ) {
    super(
      {
        table: 'organisation_outbox',
        contract: organisationSnapshotContract,
        topicKey: 'organisationSnapshots',
        lockKey: 7_236_014_522_103,
      },
      dataSource,
      producer,
      logger,
    );
  }

  /** Locks the organisation, reads its current catalogue and default policy, and enqueues them. */
  async enqueueCurrent(manager: EntityManager, organisationId: string): Promise<void> {
    const [organisation] = await manager.query<
      { profile: string; default_policy: Record<string, unknown> }[]
    >('SELECT profile, default_policy FROM organisations WHERE id = $1 FOR UPDATE', [organisationId]);
    if (organisation === undefined) return;
    const types = await manager.query<{ name: string }[]>(
      'SELECT name FROM event_types WHERE organisation_id = $1 ORDER BY name',
      [organisationId],
    );
    await this.insert(
      manager,
      { organisation_id: organisationId },
      {
        organisationId,
        eventTypes: types.map((type) => type.name),
        profile: organisation.profile,
        defaultPolicy: organisation.default_policy,
        updatedAt: new Date().toISOString(),
      },
    );
  }
}

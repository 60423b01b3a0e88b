import { type OrganisationSnapshot } from '@skyhook/contracts';

interface OrganisationEntry {
  readonly eventTypes: ReadonlySet<string>;
  readonly whileDisabled: 'drop' | 'hold';
}

/** Each organisation's catalogue and default `whileDisabled`, from the latest snapshot seen. */
export class OrganisationDirectory {
  private readonly organisations = new Map<string, OrganisationEntry>();

  apply(snapshot: OrganisationSnapshot): void {
    const whileDisabled = snapshot.defaultPolicy['whileDisabled'];
    this.organisations.set(snapshot.organisationId, {
      eventTypes: new Set(snapshot.eventTypes),
      whileDisabled: whileDisabled === 'hold' ? 'hold' : 'drop',
    });
  }

  knows(organisationId: string): boolean {
    return this.organisations.has(organisationId);
  }

  hasEventType(organisationId: string, eventType: string): boolean {
    return this.organisations.get(organisationId)?.eventTypes.has(eventType) ?? false;
  }

  defaultWhileDisabled(organisationId: string): 'drop' | 'hold' {
    return this.organisations.get(organisationId)?.whileDisabled ?? 'drop';
  }

  get size(): number {
    return this.organisations.size;
  }
}

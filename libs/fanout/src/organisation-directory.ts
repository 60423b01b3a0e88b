import { type OrganisationSnapshot } from '@skyhook/contracts';
import { DELIVERY_PROFILES, isDeliveryProfileName } from '@skyhook/delivery-policy';

interface OrganisationEntry {
  readonly eventTypes: ReadonlySet<string>;
  readonly whileDisabled: 'drop' | 'hold';
}

/**
 * Each organisation's catalogue and default `whileDisabled` (its own default policy's, else its
 * delivery profile's), from the latest snapshot seen.
 */
export class OrganisationDirectory {
  private readonly organisations = new Map<string, OrganisationEntry>();

  apply(snapshot: OrganisationSnapshot): void {
    const whileDisabled =
      snapshot.defaultPolicy['whileDisabled'] ??
      (isDeliveryProfileName(snapshot.profile)
        ? DELIVERY_PROFILES[snapshot.profile].policy.whileDisabled
        : undefined);
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

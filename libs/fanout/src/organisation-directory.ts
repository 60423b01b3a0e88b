import { isPartnerNotificationType, type OrganisationSnapshot } from '@skyhook/contracts';
import { resolveWhileDisabled, type WhileDisabled, whileDisabledIn } from '@skyhook/delivery-policy';

interface OrganisationEntry {
  readonly eventTypes: ReadonlySet<string>;
  /** What a subscription without its own `whileDisabled` gets (the organisation's default, else its profile's). */
  readonly whileDisabled: WhileDisabled;
}

/**
 * Each organisation's catalogue and default `whileDisabled` (its own default policy's, else its
 * delivery profile's), from the latest snapshot seen.
 */
export class OrganisationDirectory {
  private readonly organisations = new Map<string, OrganisationEntry>();

  apply(snapshot: OrganisationSnapshot): void {
    this.organisations.set(snapshot.organisationId, {
      eventTypes: new Set(snapshot.eventTypes),
      whileDisabled: resolveWhileDisabled({
        subscription: undefined,
        organisation: whileDisabledIn(snapshot.defaultPolicy),
        profile: snapshot.profile,
      }),
    });
  }

  knows(organisationId: string): boolean {
    return this.organisations.has(organisationId);
  }

  /** In the organisation's catalogue: one it registered, or one of Skyhook's notification types. */
  hasEventType(organisationId: string, eventType: string): boolean {
    const organisation = this.organisations.get(organisationId);
    if (organisation === undefined) return false;
    return organisation.eventTypes.has(eventType) || isPartnerNotificationType(eventType);
  }

  /**
   * The effective `whileDisabled` of a subscription of `organisationId` whose own override sets
   * `subscriptionValue` (or nothing); an organisation not seen yet counts as one with no default.
   */
  whileDisabledFor(organisationId: string, subscriptionValue: WhileDisabled | undefined): WhileDisabled {
    return (
      subscriptionValue ??
      this.organisations.get(organisationId)?.whileDisabled ??
      resolveWhileDisabled({ subscription: undefined, organisation: undefined, profile: undefined })
    );
  }

  get size(): number {
    return this.organisations.size;
  }
}

import { type SubscriberOrganisation } from '../subscriber-organisation';

export interface RotateSecretCommand {
  readonly organisation: SubscriberOrganisation;
  readonly subscriptionId: string;
  readonly expectedVersion?: number | undefined;
  /** The caller's own new secret; otherwise one is generated. */
  readonly secret?: string | undefined;
  /** How long the replaced secret keeps signing beside the new one; the settings' default if absent. */
  readonly graceSeconds?: number | undefined;
  /** `immediate` (the default), `manual` (pending until activated), or `scheduled` at `activateAt`. */
  readonly activation?: 'immediate' | 'manual' | 'scheduled' | undefined;
  readonly activateAt?: string | undefined;
}

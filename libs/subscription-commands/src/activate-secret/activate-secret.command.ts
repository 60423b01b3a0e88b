import { type SubscriberOrganisation } from '../subscriber-organisation';

export interface ActivateSecretCommand {
  readonly organisation: SubscriberOrganisation;
  readonly subscriptionId: string;
  readonly expectedVersion?: number | undefined;
  /** The pending secret to sign with from now on. */
  readonly secretId: string;
  /** How long the secret it replaces keeps signing; the settings' default if absent. */
  readonly graceSeconds?: number | undefined;
}

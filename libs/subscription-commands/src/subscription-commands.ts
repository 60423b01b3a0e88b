import { ActivateSecret } from './activate-secret/activate-secret.usecase';
import { ChangeSubscriptionStatus } from './change-subscription-status/change-subscription-status.usecase';
import { CreateSubscription } from './create-subscription/create-subscription.usecase';
import { DisableByCircuitBreaker } from './disable-by-circuit-breaker/disable-by-circuit-breaker.usecase';
import { ExpireDueSubscriptions } from './expire-due-subscriptions/expire-due-subscriptions.usecase';
import { ExpireSubscription } from './expire-subscription/expire-subscription.usecase';
import { RotateSecret } from './rotate-secret/rotate-secret.usecase';
import { SendTestEvent } from './send-test-event/send-test-event.usecase';
import { type SubscriptionCommandDependencies } from './subscription-command-dependencies';
import { UpdateSubscription } from './update-subscription/update-subscription.usecase';

/** Every subscription command, over one set of ports: what the api's controllers and consumers call. */
export class SubscriptionCommands {
  readonly create: CreateSubscription;
  readonly update: UpdateSubscription;
  readonly changeStatus: ChangeSubscriptionStatus;
  readonly rotateSecret: RotateSecret;
  readonly activateSecret: ActivateSecret;
  readonly sendTestEvent: SendTestEvent;
  readonly expire: ExpireSubscription;
  readonly expireDue: ExpireDueSubscriptions;
  readonly disableByCircuitBreaker: DisableByCircuitBreaker;

  constructor(dependencies: SubscriptionCommandDependencies) {
    this.create = new CreateSubscription(dependencies);
    this.update = new UpdateSubscription(dependencies);
    this.changeStatus = new ChangeSubscriptionStatus(dependencies);
    this.rotateSecret = new RotateSecret(dependencies);
    this.activateSecret = new ActivateSecret(dependencies);
    this.sendTestEvent = new SendTestEvent(dependencies);
    this.expire = new ExpireSubscription(dependencies);
    this.expireDue = new ExpireDueSubscriptions(dependencies);
    this.disableByCircuitBreaker = new DisableByCircuitBreaker(dependencies);
  }
}

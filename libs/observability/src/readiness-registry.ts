import { Injectable } from '@nestjs/common';
import { type ReadinessCheck } from './readiness-check';

/**
 * Modules register what they depend on when they start (the Kafka module its broker, the
 * persistence module its database), so readiness always reflects the wiring actually in use.
 */
@Injectable()
export class ReadinessRegistry {
  private readonly registered: ReadinessCheck[] = [];

  register(check: ReadinessCheck): void {
    this.registered.push(check);
  }

  get checks(): readonly ReadinessCheck[] {
    return this.registered;
  }
}

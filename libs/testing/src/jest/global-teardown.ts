import { type ProvisionedInfrastructure } from '@skyhook/local-infrastructure';

/** Global setup and teardown run in the same process, so the handle is still here. */
export default async function globalTeardown(): Promise<void> {
  const holder = globalThis as { skyhookTestInfrastructure?: ProvisionedInfrastructure };
  await holder.skyhookTestInfrastructure?.stop();
}

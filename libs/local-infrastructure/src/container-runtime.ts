import { type InfrastructureLog } from './infrastructure-log';

/**
 * True when a Docker (or compatible) engine answers. `SKYHOOK_INFRA=local` skips the probe,
 * `SKYHOOK_INFRA=containers` insists on containers.
 */
export async function containerEngineAvailable(log: InfrastructureLog): Promise<boolean> {
  const preference = process.env['SKYHOOK_INFRA'];
  if (preference === 'local') return false;
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    const client = await getContainerRuntimeClient();
    log(`container engine found: ${client.info.containerRuntime.host}`);
    return true;
  } catch (error) {
    if (preference === 'containers') {
      throw new Error(`SKYHOOK_INFRA=containers but no container engine answers: ${String(error)}`);
    }
    return false;
  }
}

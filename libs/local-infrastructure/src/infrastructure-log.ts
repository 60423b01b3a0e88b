/** Provisioning reports progress through this, so tests can stay quiet and the dev stack can talk. */
export type InfrastructureLog = (message: string) => void;

export const silentLog: InfrastructureLog = () => undefined;

import { createRequire } from 'node:module';

/** kafkajs' classes that Skyhook patches, by their module path inside the package. */
export type KafkajsInternalModule = 'kafkajs/src/consumer/consumerGroup' | 'kafkajs/src/network/requestQueue';

/**
 * Loads one of kafkajs' internal classes, to be patched where kafkajs offers no option (see
 * fetch-failover, coordinator-failover, request-queue-idle-fix, adaptive-fetch). The version is
 * pinned in package.json; should an upgrade rename what a patch relies on, the service fails at
 * start saying which patch needs updating, rather than running unpatched.
 */
export function loadKafkajsClass<TPrototype extends object>(
  modulePath: KafkajsInternalModule,
  methods: readonly (keyof TPrototype & string)[],
  patch: string,
): { readonly prototype: TPrototype } {
  const loaded = createRequire(__filename)(modulePath) as { readonly prototype?: TPrototype } | undefined;
  const prototype = loaded?.prototype;
  const missing = methods.filter(
    (method) => typeof (prototype as Record<string, unknown> | undefined)?.[method] !== 'function',
  );
  if (prototype === undefined || missing.length > 0) {
    throw new Error(`kafkajs' ${modulePath} has no ${missing.join(', ')}: the ${patch} needs updating`);
  }
  return { prototype };
}

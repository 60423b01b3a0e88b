/**
 * A benchmark's settings, read the same way by every bench script: `--name=value` on the command
 * line, else the environment variable `<PREFIX>NAME`, else the default. `ISOLATION_SECONDS` is
 * `--seconds=` for the isolation bench.
 */
export function benchSetting(prefix: string, name: string, fallback: string): string {
  const flag = `--${name
    .replace(new RegExp(`^${prefix}`), '')
    .toLowerCase()
    .replace(/_/g, '-')}=`;
  const argument = process.argv.find((arg) => arg.startsWith(flag));
  return argument?.slice(flag.length) ?? process.env[name] ?? fallback;
}

/** A numeric setting, refused (with its name) unless a finite number of at least `min`. */
export function benchNumberSetting(prefix: string, name: string, fallback: number, min = 0): number {
  const value = Number(benchSetting(prefix, name, String(fallback)));
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number ≥ ${min}`);
  return value;
}

/**
 * Settings handed to every service a bench starts, `NAME=value,NAME=value` (e.g.
 * `--service-env=DISPATCH_FETCH_BATCH_WAIT_MS=0`), to compare them in one session.
 */
export function benchServiceEnvironment(prefix: string, name: string): Record<string, string> {
  return Object.fromEntries(
    benchSetting(prefix, name, '')
      .split(',')
      .filter((pair) => pair !== '')
      .map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new Error(`${name}: ${pair} is not NAME=value`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
  );
}

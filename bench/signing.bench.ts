/**
 * What signing one attempt costs per scheme: Standard Webhooks v1 (HMAC-SHA256) against v1a
 * (ed25519), with one key and with two (a rotation's grace), at a typical and a large body.
 * CPU time of this process only; rows alternate, so a busy machine weighs on all alike.
 *
 *   npm run bench:signing
 *   BENCH_SIGNING_ROUNDS=5 BENCH_SIGNING_SIGNATURES=20000 npm run bench:signing
 */
import { type SignaturePolicy } from '@skyhook/delivery-policy';
import { generateSigningKeyPair, generateSigningSecret } from '@skyhook/secrets';
import { compileSigner } from '@skyhook/webhook-signing';

const ROUNDS = Number(process.env['BENCH_SIGNING_ROUNDS'] ?? 3);
const SIGNATURES = Number(process.env['BENCH_SIGNING_SIGNATURES'] ?? 20_000);

interface Row {
  readonly name: string;
  readonly signature: SignaturePolicy;
  readonly secrets: () => string[];
}

const ROWS: readonly Row[] = [
  {
    name: 'v1 (HMAC), 1 secret',
    signature: { scheme: 'standard-webhooks' },
    secrets: () => [generateSigningSecret()],
  },
  {
    name: 'v1a (ed25519), 1 key',
    signature: { scheme: 'standard-webhooks-v1a' },
    secrets: () => [generateSigningKeyPair().signingKey],
  },
  {
    name: 'v1 (HMAC), 2 secrets',
    signature: { scheme: 'standard-webhooks' },
    secrets: () => [generateSigningSecret(), generateSigningSecret()],
  },
  {
    name: 'v1a (ed25519), 2 keys',
    signature: { scheme: 'standard-webhooks-v1a' },
    secrets: () => [generateSigningKeyPair().signingKey, generateSigningKeyPair().signingKey],
  },
];

function microsecondsPerSignature(row: Row, body: Buffer): number {
  const signer = compileSigner(row.signature, row.secrets());
  for (let warm = 0; warm < 2_000; warm += 1) signer.sign('del_bench', 1_795_445_218 + warm, body);
  const start = process.cpuUsage();
  for (let n = 0; n < SIGNATURES; n += 1) signer.sign('del_bench', 1_795_445_218 + n, body);
  const used = process.cpuUsage(start);
  return (used.user + used.system) / SIGNATURES;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function main(): void {
  for (const bodyBytes of [600, 16_384]) {
    const body = Buffer.alloc(bodyBytes, '{"a":1}');
    const samples = new Map<string, number[]>(ROWS.map((row) => [row.name, []]));
    for (let round = 0; round < ROUNDS; round += 1) {
      for (const row of ROWS) samples.get(row.name)?.push(microsecondsPerSignature(row, body));
    }
    const baseline = median(samples.get(ROWS[0]?.name ?? '') ?? []);
    console.log(
      `\nbody ${bodyBytes} bytes, ${SIGNATURES} signatures × ${ROUNDS} rounds (median CPU µs per attempt)`,
    );
    console.log('| scheme | µs per attempt | × v1, 1 secret |');
    console.log('| --- | ---: | ---: |');
    for (const row of ROWS) {
      const value = median(samples.get(row.name) ?? []);
      console.log(`| ${row.name} | ${value.toFixed(1)} | ${(value / baseline).toFixed(1)} |`);
    }
  }
}

main();

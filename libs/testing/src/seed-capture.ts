import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { workspaceRoot } from '@skyhook/local-infrastructure';
import { type ReceivedWebhook } from './webhook-receiver';

/** An event as the test published it, for the verifier to match the deliveries against. */
export interface PublishedEventRecord {
  id: string;
  type: string;
  scope: Record<string, string>;
  /** ISO 8601, as published. */
  occurredAt: string;
  data: Record<string, unknown>;
}

export interface SeedCapture {
  seed: string;
  /** The subscription's signing secret (`whsec_…`), so the verifier can check every signature. */
  secret: string;
  /** Passed through to the verifier as the seed run used it. */
  timeScale: number;
  published: PublishedEventRecord[];
  requests: readonly ReceivedWebhook[];
  /**
   * After a secret rotation: from the new secret's activation until the end of Skyhook's switch
   * grace (epoch ms), a 401/403 is retried whatever the seed's own retry rule says.
   */
  secretSwitch?: { from: number; until: number };
}

/** One delivery (an event to the subscription) as the verifier reconstructed it from the requests. */
export interface SeedVerifierDelivery {
  key: string;
  type: string;
  attempts: number;
  /** The status answered to each attempt; `null` for an attempt that got none. */
  answers: (number | null)[];
  /** Seconds between consecutive attempts. */
  gapsSeconds: number[];
  outcome: string;
}

/** What `seed_conformance.py` prints on stdout. */
export interface SeedVerifierReport {
  seed: string;
  ok: boolean;
  failures: string[];
  requests: number;
  verified: number;
  tamperRejected: number;
  deliveries: SeedVerifierDelivery[];
}

export interface SeedVerifierResult {
  /** The verifier's exit code: 0 when the capture conforms. */
  exitCode: number;
  report: SeedVerifierReport;
  stderr: string;
}

const SEED_VERIFIER_TIMEOUT_MS = 60_000;
// A report lists every delivery of the capture; execFile's default of 1 MiB is too little for a big seed.
const SEED_VERIFIER_MAX_OUTPUT_BYTES = 256 * 1024 * 1024;

/**
 * Writes what a seed run published and what the receiver saw, in the format `seed_conformance.py`
 * reads: times in unix seconds (floats), bodies in base64 since signatures are over their exact bytes.
 */
export async function writeSeedCapture(file: string, capture: SeedCapture): Promise<void> {
  const document = {
    seed: capture.seed,
    secret: capture.secret,
    timeScale: capture.timeScale,
    capturedAt: Date.now() / 1000,
    ...(capture.secretSwitch === undefined
      ? {}
      : {
          secretSwitch: { from: capture.secretSwitch.from / 1000, until: capture.secretSwitch.until / 1000 },
        }),
    published: capture.published.map(({ id, type, scope, occurredAt, data }) => ({
      id,
      type,
      scope,
      occurredAt,
      data,
    })),
    requests: capture.requests.map((request) => ({
      method: request.method,
      path: request.path,
      headers: request.headers,
      bodyBase64: request.rawBody.toString('base64'),
      receivedAt: request.receivedAt / 1000,
      answer: request.answer ?? null,
      clientClosedAt: request.clientClosedAt === undefined ? null : request.clientClosedAt / 1000,
    })),
  };
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(document)}\n`);
}

/**
 * Runs the Python seed verifier on a capture written by `writeSeedCapture`. Resolves with its exit code
 * and report whether or not the capture conforms; rejects only when there is no report to read (no
 * python3, a crash, a timeout).
 */
export function runSeedVerifier(captureFile: string): Promise<SeedVerifierResult> {
  // The verifier is not part of the build output, so it is found from the workspace root: the same path
  // whether this runs from the TypeScript sources (jest) or from dist/.
  const verifier = join(
    workspaceRoot(),
    'apps',
    'api',
    'src',
    'e2e',
    'seed-conformance',
    'verifiers',
    'seed_conformance.py',
  );
  return new Promise((resolve, reject) => {
    execFile(
      'python3',
      [verifier, captureFile],
      { timeout: SEED_VERIFIER_TIMEOUT_MS, maxBuffer: SEED_VERIFIER_MAX_OUTPUT_BYTES, encoding: 'utf8' },
      (error, stdout, stderr) => {
        // A non-zero exit is the verdict "does not conform", not a failure to run; anything else
        // (no python3, killed by the timeout or a signal) leaves no exit code to report.
        const exitCode = error === null ? 0 : error.code;
        if (typeof exitCode !== 'number') {
          const reason = error?.killed
            ? `timed out after ${SEED_VERIFIER_TIMEOUT_MS / 1000} s`
            : (error?.message ?? 'failed');
          reject(new Error(`seed verifier ${reason}\nstdout:\n${stdout}\nstderr:\n${stderr}`));
          return;
        }
        let report: unknown;
        try {
          report = JSON.parse(stdout);
        } catch {
          report = undefined;
        }
        if (typeof report !== 'object' || report === null || Array.isArray(report)) {
          reject(
            new Error(
              `seed verifier (exit code ${exitCode}) printed no JSON report\nstdout:\n${stdout}\nstderr:\n${stderr}`,
            ),
          );
          return;
        }
        resolve({ exitCode, report: report as SeedVerifierReport, stderr });
      },
    );
  });
}

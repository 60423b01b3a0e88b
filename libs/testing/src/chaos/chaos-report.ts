import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SERVICE_NAMES } from '@skyhook/local-infrastructure';
import { type ChaosScenarioReport } from './chaos-scenario';
import { type ChaosStack } from './chaos-stack';

/** A chaos run in a few lines: what was published, what arrived, how fast work flowed again. */
export function describeChaosReport(report: ChaosScenarioReport): string {
  const { audit, stream } = report;
  const faults = report.faults.map((fault, i) => {
    const broker =
      fault.brokerStart === undefined
        ? `live ${fault.liveAfterMs} ms after its restart, `
        : `broker usable ${fault.brokerStart.usableMs} ms after start (listening ${fault.brokerStart.listeningMs} ms), `;
    const recovery = fault.recoveryMs === undefined ? 'never' : `${fault.recoveryMs} ms`;
    return `  fault ${i + 1} (${fault.target} ${fault.member}): ${broker}held work flowing ${recovery} after the restart`;
  });
  return [
    `${report.target}: ${stream.acknowledged.length} events acknowledged (${stream.unacknowledged.length} not) in ${stream.elapsedMs} ms; answers ${JSON.stringify(stream.answers)}`,
    ...faults,
    `  expected ${audit.expected}, received ${audit.received}, lost ${audit.lost}, duplicates ${audit.duplicates} ` +
      `(at most ${audit.mostCopies} copies of one; ${audit.duplicatesWithAnotherBody.length} with another body), unacknowledged arrivals ${audit.unacknowledgedArrivals}, ` +
      `events under two ids ${audit.eventsUnderTwoIds}`,
    `  history: missing ${audit.history.missing}, doubled ${audit.history.doubled}, not delivered ${audit.history.notDelivered}, ` +
      `requests not in history ${audit.history.requestsNotInHistory} (${audit.history.requestsHidden} without a marked attempt)` +
      (audit.history.examples.length > 0 ? ` (e.g. ${audit.history.examples.join(', ')})` : ''),
    `  longest receiver silence ${report.longestSilenceMs} ms while the stream ran`,
    `  converged ${report.convergedAfterMs === undefined ? 'never' : `${report.convergedAfterMs} ms`} after the stream ended`,
  ].join('\n');
}

/**
 * The warnings and errors a service logged, by message (numbers and addresses folded, so one
 * kind of failure counts once), most frequent first: enough to tell a stuck producer from an
 * outage that ended.
 */
export function summariseServiceErrors(output: string, top = 6): string {
  const counts = new Map<string, number>();
  for (const line of output.split('\n')) {
    if (!/"level":"(warn|error|fatal)"/.test(line)) continue;
    const message = /"msg":"((?:[^"\\]|\\.)*)"/.exec(line)?.[1] ?? line;
    const kind = message.replace(/\d+/g, 'N').slice(0, 90);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const sorted = [...counts].sort((a, b) => b[1] - a[1]).slice(0, top);
  return sorted.length === 0
    ? 'no warnings or errors'
    : sorted.map(([kind, n]) => `${n}× ${kind}`).join('; ');
}

/** A failed run's evidence: what each service logged, by kind in the log and in full in a file. */
export async function keepServiceOutput(stack: ChaosStack, log: (line: string) => void): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'skyhook-chaos-output-'));
  for (const name of SERVICE_NAMES) {
    const output = stack.serviceOutput(name);
    await writeFile(join(directory, `${name}.log`), output);
    log(`${name}: ${summariseServiceErrors(output)}`);
  }
  log(`services' output kept in ${directory}`);
}

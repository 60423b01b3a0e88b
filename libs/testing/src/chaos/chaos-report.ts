import { type ChaosScenarioReport } from './chaos-scenario';

/** A chaos run in a few lines: what was published, what arrived, how fast work flowed again. */
export function describeChaosReport(report: ChaosScenarioReport): string {
  const { audit, stream } = report;
  const faults = report.faults.map((fault, i) => {
    const broker =
      fault.brokerStart === undefined
        ? ''
        : `broker usable ${fault.brokerStart.usableMs} ms after start (listening ${fault.brokerStart.listeningMs} ms), `;
    const recovery = fault.recoveryMs === undefined ? 'never' : `${fault.recoveryMs} ms`;
    return `  kill ${i + 1}: ${broker}held work flowing ${recovery} after the restart`;
  });
  return [
    `${report.target}: ${stream.acknowledged.length} events acknowledged (${stream.unacknowledged.length} not) in ${stream.elapsedMs} ms; answers ${JSON.stringify(stream.answers)}`,
    ...faults,
    `  expected ${audit.expected}, received ${audit.received}, lost ${audit.lost}, duplicates ${audit.duplicates} ` +
      `(${audit.duplicatesWithAnotherBody.length} with another body), unacknowledged arrivals ${audit.unacknowledgedArrivals}, ` +
      `events under two ids ${audit.eventsUnderTwoIds}`,
    `  history: missing ${audit.history.missing}, doubled ${audit.history.doubled}, not delivered ${audit.history.notDelivered}, ` +
      `requests not in history ${audit.history.requestsNotInHistory}`,
    `  converged ${report.convergedAfterMs === undefined ? 'never' : `${report.convergedAfterMs} ms`} after the stream ended`,
  ].join('\n');
}

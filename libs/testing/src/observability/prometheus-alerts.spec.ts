import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { workspaceRoot } from '@skyhook/local-infrastructure';
import { catalogueEntryForSeries, loadMetricsCatalogue, metricNamesInPromQL } from './metrics-catalogue';

interface AlertRule {
  alert?: string;
  record?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const root = workspaceRoot();
const read = (...path: string[]): string => readFileSync(join(root, ...path), 'utf8');
const catalogue = loadMetricsCatalogue();
const rules = (
  parse(read('deploy', 'prometheus', 'alerts.yml')) as { groups: { name: string; rules: AlertRule[] }[] }
).groups.flatMap((group) => group.rules);

/** The anchors GitHub gives a document's headings: lower case, punctuation dropped, spaces to dashes. */
function headingAnchors(markdown: string): Set<string> {
  return new Set(
    [...markdown.matchAll(/^#{1,6}\s+(.+?)\s*$/gm)].map((match) =>
      match[1]!
        .toLowerCase()
        .replace(/[^\p{L}\p{N}\s_-]/gu, '')
        .replace(/\s/g, '-'),
    ),
  );
}

describe('Prometheus alerting rules', () => {
  it('cover the operators’ alerts, each once', () => {
    const names = rules.map((rule) => rule.alert);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'SkyhookDeliverySuccessRatioLow',
        'SkyhookConsumerLagGrowing',
        'SkyhookEndpointsDisabledInBulk',
        'SkyhookServiceDown',
        'SkyhookServiceAbsent',
        'SkyhookProjectionLagging',
      ]),
    );
  });

  it.each(rules.map((rule) => [rule.alert ?? rule.record ?? '(unnamed)', rule] as const))(
    '%s: an alert with for, severity and a runbook, over catalogued metrics only',
    (_name, rule) => {
      expect(rule.alert).toMatch(/^Skyhook[A-Za-z]+$/);
      expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical']).toContain(rule.labels?.['severity']);
      expect(rule.annotations?.['summary']).toEqual(expect.any(String));
      expect(rule.annotations?.['runbook']).toMatch(/^docs\/runbook\.md#[a-z0-9-]+$/);
      const names = metricNamesInPromQL(rule.expr ?? '');
      expect(names.length).toBeGreaterThan(0);
      expect(
        names.filter((name) => name !== 'up' && catalogueEntryForSeries(catalogue, name) === undefined),
      ).toEqual([]);
    },
  );

  it('link every runbook annotation to a heading of docs/runbook.md', () => {
    const anchors = headingAnchors(read('docs', 'runbook.md'));
    const missing = rules
      .map((rule) => rule.annotations?.['runbook']?.split('#')[1])
      .filter((anchor) => anchor === undefined || !anchors.has(anchor));
    expect(missing).toEqual([]);
  });

  it('are loaded by the Prometheus configuration, and mounted next to it by docker compose', () => {
    const prometheus = parse(read('deploy', 'prometheus', 'prometheus.yml')) as { rule_files?: string[] };
    expect(prometheus.rule_files).toEqual(['alerts.yml']);
    const compose = parse(read('docker-compose.yml')) as {
      services: Record<string, { volumes?: string[] }>;
    };
    expect(compose.services['prometheus']?.volumes).toEqual(
      expect.arrayContaining([
        './deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro',
        './deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro',
      ]),
    );
  });
});

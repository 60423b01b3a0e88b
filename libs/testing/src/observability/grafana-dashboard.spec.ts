import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceRoot } from '@skyhook/local-infrastructure';
import { catalogueEntryForSeries, loadMetricsCatalogue, metricNamesInPromQL } from './metrics-catalogue';

interface DashboardPanel {
  id?: number;
  type?: string;
  title?: string;
  datasource?: { type?: string; uid?: string };
  targets?: { refId?: string; expr?: string; datasource?: { uid?: string } }[];
  panels?: DashboardPanel[];
}

const DASHBOARDS_DIR = join(workspaceRoot(), 'deploy', 'grafana', 'dashboards');
/** The uid of the datasource that deploy/grafana/provisioning provisions. */
const PROVISIONED_DATASOURCE_UID = 'prometheus';
/** Prometheus' own per-target series: the only uncatalogued name a panel may use. */
const PROMETHEUS_OWN = new Set(['up']);

const catalogue = loadMetricsCatalogue();
const dashboards = readdirSync(DASHBOARDS_DIR)
  .filter((file) => file.endsWith('.json'))
  .map((file) => ({
    file,
    dashboard: JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as {
      uid: string;
      title: string;
      panels: DashboardPanel[];
    },
  }));

function allPanels(panels: readonly DashboardPanel[]): DashboardPanel[] {
  return panels.flatMap((panel) => [panel, ...allPanels(panel.panels ?? [])]);
}

describe('Grafana dashboards', () => {
  it('include the overview dashboard', () => {
    expect(dashboards.map(({ file }) => file)).toContain('skyhook-overview.json');
  });

  describe.each(dashboards)('$file', ({ dashboard }) => {
    const panels = allPanels(dashboard.panels);
    const queryPanels = panels.filter((panel) => panel.type !== 'row');

    it('has a uid, a title, unique panel ids, and a title on every panel', () => {
      expect(dashboard.uid).toMatch(/^[a-z0-9-]+$/);
      expect(dashboard.title.trim()).not.toBe('');
      const ids = panels.map((panel) => panel.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(panels.filter((panel) => (panel.title ?? '').trim() === '').map((panel) => panel.id)).toEqual(
        [],
      );
    });

    it('queries the provisioned Prometheus datasource from every panel, each target with a query', () => {
      const withoutDatasource = queryPanels.filter(
        (panel) =>
          panel.datasource?.type !== 'prometheus' || panel.datasource.uid !== PROVISIONED_DATASOURCE_UID,
      );
      expect(withoutDatasource.map((panel) => panel.title)).toEqual([]);
      const withoutQuery = queryPanels.filter(
        (panel) =>
          (panel.targets ?? []).length === 0 ||
          (panel.targets ?? []).some((target) => (target.expr ?? '').trim() === ''),
      );
      expect(withoutQuery.map((panel) => panel.title)).toEqual([]);
    });

    it('uses only catalogued metrics (histograms by their _bucket, _sum, _count series)', () => {
      const uncatalogued = queryPanels.flatMap((panel) =>
        (panel.targets ?? []).flatMap((target) =>
          metricNamesInPromQL(target.expr ?? '')
            .filter(
              (name) => !PROMETHEUS_OWN.has(name) && catalogueEntryForSeries(catalogue, name) === undefined,
            )
            .map((name) => `${panel.title}: ${name}`),
        ),
      );
      expect(uncatalogued).toEqual([]);
    });
  });

  it('the overview answers the operators’ questions: a panel on each metric they need', () => {
    const overview = dashboards.find(({ file }) => file === 'skyhook-overview.json')!.dashboard;
    const used = new Set(
      allPanels(overview.panels).flatMap((panel) =>
        (panel.targets ?? []).flatMap((target) =>
          metricNamesInPromQL(target.expr ?? '').map(
            (name) => catalogueEntryForSeries(catalogue, name)?.name ?? name,
          ),
        ),
      ),
    );
    expect([...used]).toEqual(
      expect.arrayContaining([
        'skyhook_dispatcher_attempts_total',
        'skyhook_dispatcher_publish_to_delivery_seconds',
        'skyhook_dispatcher_attempt_duration_seconds',
        'skyhook_dispatcher_retries_scheduled_total',
        'skyhook_dispatcher_breakers',
        'skyhook_fanout_subscriptions_by_status',
        'skyhook_kafka_consumer_lag',
        'skyhook_history_projection_delay_seconds',
        'skyhook_fanout_events_total',
        'skyhook_fanout_matches_per_event',
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_eventloop_lag_p99_seconds',
      ]),
    );
  });
});

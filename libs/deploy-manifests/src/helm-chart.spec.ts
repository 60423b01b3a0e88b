// Renders the Helm chart (deploy/helm/skyhook) with Helm itself (helm-java, ADR 0034): with its
// defaults it must be exactly deploy/k8s/skyhook.yaml, which kubernetes-manifests.spec.ts checks
// against the services' configuration; with every option on (ci/full-values.yaml) its optional
// resources must fit the rest: the ServiceMonitor and KEDA's scalers point at what exists, the
// alert rules are Prometheus' own file, and the environment still passes the services' schemas.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { CONSUMER_GROUPS, KAFKA_TOPICS } from '@skyhook/contracts';
import { consumerGroupIdOf, kafkaEnvironmentSchema, topicNameOf } from '@skyhook/messaging';
import { workspaceRoot } from '@skyhook/local-infrastructure';
import { CHART_DIRECTORY, kustomizeBase, KUSTOMIZE_BASE_FILE, renderChart } from './helm-chart';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument --
   Rendered manifests are untyped YAML; what each test reads it asserts. */
type Resource = Record<string, any>;

const RENDER_TIMEOUT_MS = 180_000;

function resourcesOf(rendered: string): Resource[] {
  return parseAllDocuments(rendered, { strict: true, uniqueKeys: true })
    .filter((document) => document.contents !== null)
    .map((document) => {
      expect([...document.errors, ...document.warnings]).toEqual([]);
      return document.toJS() as Resource;
    });
}

const named = (resources: Resource[], kind: string, name: string): Resource | undefined =>
  resources.find((resource) => resource['kind'] === kind && resource['metadata']?.['name'] === name);

describe('Helm chart (deploy/helm/skyhook)', () => {
  it(
    'renders with its defaults to exactly deploy/k8s/skyhook.yaml (run `npm run deploy:render` after changing the chart)',
    async () => {
      expect(readFileSync(KUSTOMIZE_BASE_FILE, 'utf8')).toBe(await kustomizeBase());
    },
    RENDER_TIMEOUT_MS,
  );

  it('carries Prometheus’ alert rules file unchanged', () => {
    expect(readFileSync(join(CHART_DIRECTORY, 'files', 'alerts.yml'), 'utf8')).toBe(
      readFileSync(join(workspaceRoot(), 'deploy', 'prometheus', 'alerts.yml'), 'utf8'),
    );
  });

  it(
    'refuses careless values (values.schema.json), naming each mistake by its path',
    async () => {
      const directory = mkdtempSync(join(tmpdir(), 'skyhook-values-'));
      const careless = join(directory, 'values.yaml');
      writeFileSync(
        careless,
        [
          'servics: {}', // misspelt: would be ignored without the schema
          'config:',
          '  HISTORY_RETENTION_DAYS: 30', // a number where the ConfigMap needs a string
          'services:',
          '  dispatcher:',
          "    replicas: 'three'",
          'kafka:',
          "  saslMechanism: 'scram'",
        ].join('\n'),
      );
      try {
        const refusal = await renderChart({
          release: 'skyhook',
          namespace: 'skyhook',
          valuesFiles: [careless],
        }).then(
          () => '',
          (error: unknown) => String((error as { stderr?: string }).stderr ?? error),
        );
        expect(refusal).toContain("values don't meet the specifications of the schema");
        for (const path of [
          'Additional property servics',
          'services.dispatcher.replicas',
          'kafka.saslMechanism',
          'config.HISTORY_RETENTION_DAYS',
        ]) {
          expect(refusal).toContain(path);
        }
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    },
    RENDER_TIMEOUT_MS,
  );

  describe('with every option on (ci/full-values.yaml), as release "acme"', () => {
    let resources: Resource[] = [];
    beforeAll(async () => {
      resources = resourcesOf(
        await renderChart({
          release: 'acme',
          namespace: 'webhooks',
          valuesFiles: [join(CHART_DIRECTORY, 'ci', 'full-values.yaml')],
        }),
      );
    }, RENDER_TIMEOUT_MS);

    const deployments = (): Resource[] => resources.filter((resource) => resource['kind'] === 'Deployment');

    it('names everything after the release, runs the tagged image with its pull secret, and leaves out what is off', () => {
      expect(deployments().map((deployment) => deployment['metadata']['name'])).toEqual([
        'acme-skyhook-api',
        'acme-skyhook-fanout',
        'acme-skyhook-dispatcher',
        'acme-skyhook-history',
      ]);
      for (const deployment of deployments()) {
        const pod = deployment['spec']['template']['spec'];
        expect(pod['containers'][0]['image']).toBe('registry.example.com/aviation/skyhook:1.2.3');
        expect(pod['imagePullSecrets']).toEqual([{ name: 'registry-credentials' }]);
        for (const variable of pod['containers'][0]['env'] as Resource[]) {
          if (variable['valueFrom'] !== undefined)
            expect(variable['valueFrom']['secretKeyRef']['name']).toBe('skyhook-production');
        }
      }
      expect(resources.filter((resource) => resource['kind'] === 'NetworkPolicy')).toEqual([]);
      expect(resources.some((resource) => resource['metadata']?.['name']?.includes('portal'))).toBe(false);
    });

    it('configures Kafka as the services read it: the environment passes their schema', () => {
      const config = named(resources, 'ConfigMap', 'acme-skyhook-config')?.['data'] as Record<string, string>;
      expect(config).toMatchObject({
        KAFKA_TOPIC_PREFIX: 'prod.',
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: 'scram-sha-512',
        DATABASE_POOL_SIZE: '20',
        LOG_LEVEL: 'warn',
      });
      const parsed = kafkaEnvironmentSchema.safeParse({
        ...config,
        KAFKA_SASL_USERNAME: 'skyhook',
        KAFKA_SASL_PASSWORD: 'secret',
      });
      expect(parsed.error?.issues ?? []).toEqual([]);
      expect(parsed.data?.KAFKA_TOPIC_PREFIX).toBe('prod.');
    });

    it('scrapes every Service through a ServiceMonitor that selects them on their named port', () => {
      const monitor = named(resources, 'ServiceMonitor', 'acme-skyhook');
      expect(monitor?.['metadata']['labels']['release']).toBe('kube-prometheus-stack');
      const selector = monitor?.['spec']['selector']['matchLabels'] as Record<string, string>;
      const services = resources.filter((resource) => resource['kind'] === 'Service');
      expect(services).toHaveLength(4);
      for (const service of services) {
        const labels = service['metadata']['labels'] as Record<string, string>;
        expect(Object.entries(selector).every(([key, value]) => labels[key] === value)).toBe(true);
        expect((service['spec']['ports'] as Resource[]).map((port) => port['name'])).toContain(
          monitor?.['spec']['endpoints'][0]['port'],
        );
      }
    });

    it('ships the alert rules as a PrometheusRule', () => {
      const rule = named(resources, 'PrometheusRule', 'acme-skyhook');
      const alerts = parse(
        readFileSync(join(workspaceRoot(), 'deploy', 'prometheus', 'alerts.yml'), 'utf8'),
      ) as {
        groups: unknown[];
      };
      expect(rule?.['spec']['groups']).toEqual(alerts.groups);
    });

    it('scales fanout and the dispatcher on the lag of the consumer groups and topics they really use', () => {
      const settings = { topicPrefix: 'prod.' };
      const expected = {
        fanout: { group: CONSUMER_GROUPS.fanout.name, topic: 'inboundEvents' },
        dispatcher: { group: CONSUMER_GROUPS.dispatcher.name, topic: 'deliveryRequests' },
      } as const;
      for (const [component, { group, topic }] of Object.entries(expected)) {
        const scaled = named(resources, 'ScaledObject', `acme-skyhook-${component}`);
        const target = named(resources, 'Deployment', scaled?.['spec']['scaleTargetRef']['name']);
        expect(target).toBeDefined();
        // KEDA owns its replicas: the Deployment leaves them unset, so upgrades do not fight it.
        expect(target?.['spec']['replicas']).toBeUndefined();
        const trigger = scaled?.['spec']['triggers'][0];
        expect(trigger['type']).toBe('kafka');
        expect(trigger['metadata']).toMatchObject({
          consumerGroup: consumerGroupIdOf(settings, group),
          topic: topicNameOf(settings, topic),
          bootstrapServers:
            'b-1.kafka.example.com:9096,b-2.kafka.example.com:9096,b-3.kafka.example.com:9096',
        });
        expect(scaled?.['spec']['maxReplicaCount']).toBeLessThanOrEqual(
          KAFKA_TOPICS[topic].defaultPartitions,
        );
      }
      // Not scaled by KEDA: replicas as set.
      expect(named(resources, 'Deployment', 'acme-skyhook-api')?.['spec']['replicas']).toBe(2);
    });
  });
});

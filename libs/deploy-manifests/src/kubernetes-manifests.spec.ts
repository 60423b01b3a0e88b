// Checks the Kubernetes manifests in deploy/k8s against what the services need: probes on the
// health endpoints, a termination grace period above the 30 s drain, a locked-down security
// context, resources, every required environment variable (secrets only by reference), and
// Services/PodDisruptionBudgets that select the Deployments' pods.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { z } from 'zod';
import { kafkaEnvironmentSchema } from '@skyhook/messaging';
import { databaseEnvironmentSchema } from '@skyhook/persistence';
import { serviceEnvironmentSchema } from '@skyhook/service-runtime';

type Yaml = null | boolean | number | string | Yaml[] | { [key: string]: Yaml };
type YamlMap = { [key: string]: Yaml };

/**
 * Every document of a manifest file, parsed as YAML 1.2 in strict mode: a duplicate key or any
 * parse warning fails the test rather than being read past.
 */
function parseYamlDocuments(source: string, file: string): YamlMap[] {
  return parseAllDocuments(source, { strict: true, uniqueKeys: true })
    .filter((document) => document.contents !== null)
    .map((document, index) => {
      const problems = [...document.errors, ...document.warnings];
      if (problems.length > 0) {
        throw new Error(`${file}: document ${index + 1}: ${problems.map((p) => p.message).join('; ')}`);
      }
      return asMap(document.toJS() as Yaml, `${file}: document ${index + 1}`);
    });
}

// ---------------------------------------------------------------------------------------------
// Typed access to the parsed manifests.
// ---------------------------------------------------------------------------------------------

function asMap(value: Yaml | undefined, what: string): YamlMap {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${what}: expected a mapping`);
  }
  return value;
}

function asList(value: Yaml | undefined, what: string): Yaml[] {
  if (!Array.isArray(value)) throw new Error(`${what}: expected a sequence`);
  return value;
}

function asMaps(value: Yaml | undefined, what: string): YamlMap[] {
  return asList(value, what).map((item, index) => asMap(item, `${what}[${index}]`));
}

function at(root: YamlMap, path: string): Yaml | undefined {
  let current: Yaml | undefined = root;
  for (const key of path.split('.')) {
    if (current === null || current === undefined || typeof current !== 'object' || Array.isArray(current)) {
      return undefined;
    }
    current = current[key];
  }
  return current;
}

function labelsOf(value: Yaml | undefined, what: string): Record<string, string> {
  const labels = asMap(value, what);
  for (const [key, label] of Object.entries(labels)) {
    if (typeof label !== 'string') throw new Error(`${what}.${key}: labels are strings`);
  }
  return labels as Record<string, string>;
}

/** ConfigMap and Secret values are strings; anything else shows up as its JSON (and fails). */
function scalarText(value: Yaml | undefined): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

// ---------------------------------------------------------------------------------------------
// The manifests and what the services need.
// ---------------------------------------------------------------------------------------------

/** This file sits in libs/deploy-manifests/src. */
const root = join(__dirname, '..', '..', '..');
const manifestDirectory = join(root, 'deploy', 'k8s');
const manifestFiles = readdirSync(manifestDirectory)
  .filter((name) => name.endsWith('.yaml'))
  .sort();
const documentsByFile = new Map(
  manifestFiles.map((name) => [
    name,
    parseYamlDocuments(readFileSync(join(manifestDirectory, name), 'utf8'), `deploy/k8s/${name}`),
  ]),
);
const SECRET_TEMPLATE = 'secret.example.yaml';
const KUSTOMIZATION = 'kustomization.yaml';
const resources = [...documentsByFile.entries()]
  .filter(([name]) => name !== SECRET_TEMPLATE && name !== KUSTOMIZATION)
  .flatMap(([, documents]) => documents);
const ofKind = (kind: string): YamlMap[] => resources.filter((document) => document['kind'] === kind);
const nameOf = (document: YamlMap): string => {
  const name = at(document, 'metadata.name');
  return typeof name === 'string' ? name : '';
};

const SERVICES = ['api', 'fanout', 'dispatcher', 'history', 'portal'] as const;
type ServiceName = (typeof SERVICES)[number];

/**
 * What each service's configuration schema requires (apps/<service>/src/<service>.config.ts):
 * the shared parts come from the libraries the schemas are built from; the app-specific
 * required variable (SECRETS_MASTER_KEY, in api.config.ts and dispatcher.config.ts) is listed
 * here, as the apps' schemas are not importable from a library.
 */
const sharedSchemas: Record<ServiceName, z.ZodObject> = {
  api: serviceEnvironmentSchema.extend(kafkaEnvironmentSchema.shape).extend(databaseEnvironmentSchema.shape),
  fanout: serviceEnvironmentSchema.extend(kafkaEnvironmentSchema.shape),
  dispatcher: serviceEnvironmentSchema.extend(kafkaEnvironmentSchema.shape),
  history: serviceEnvironmentSchema
    .extend(kafkaEnvironmentSchema.shape)
    .extend(databaseEnvironmentSchema.shape),
  // The portal reads no Kafka or database settings: it acts through the api (SKYHOOK_API_URL).
  portal: serviceEnvironmentSchema,
};
const APP_SPECIFIC_REQUIRED: Record<ServiceName, string[]> = {
  api: ['SECRETS_MASTER_KEY'],
  fanout: [],
  dispatcher: ['SECRETS_MASTER_KEY'],
  history: [],
  portal: ['SKYHOOK_API_URL'],
};
function requiredVariables(service: ServiceName): string[] {
  const fromSchema = Object.entries(sharedSchemas[service].shape)
    .filter(([, field]) => !(field as z.ZodType).safeParse(undefined).success)
    .map(([name]) => name);
  return [...fromSchema, ...APP_SPECIFIC_REQUIRED[service]].sort();
}

/** Never written as a literal value or into a ConfigMap. */
const SECRET_VARIABLES = [
  'DATABASE_URL',
  'SECRETS_MASTER_KEY',
  'SECRETS_PREVIOUS_MASTER_KEYS',
  'SKYHOOK_ADMIN_TOKEN',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
];

/** Stand-ins for the template's placeholders when the resolved environment is validated. */
const TEST_SECRET_VALUES: Record<string, string> = {
  DATABASE_URL: 'postgres://skyhook:password@postgres.example:5432/skyhook',
  SECRETS_MASTER_KEY: Buffer.alloc(32, 7).toString('base64'),
  SKYHOOK_ADMIN_TOKEN: 'a'.repeat(32),
};

const secretTemplate = asMap(documentsByFile.get(SECRET_TEMPLATE)?.[0], SECRET_TEMPLATE);
const secretName = nameOf(secretTemplate);
const secretData = asMap(secretTemplate['stringData'], `${SECRET_TEMPLATE} stringData`);
const configMaps = new Map(ofKind('ConfigMap').map((map) => [nameOf(map), asMap(map['data'], nameOf(map))]));

function deploymentOf(service: ServiceName): YamlMap {
  const matches = ofKind('Deployment').filter((deployment) => nameOf(deployment) === `skyhook-${service}`);
  expect(matches).toHaveLength(1);
  return matches[0]!;
}

function containerOf(deployment: YamlMap): YamlMap {
  const containers = asMaps(at(deployment, 'spec.template.spec.containers'), nameOf(deployment));
  expect(containers).toHaveLength(1);
  return containers[0]!;
}

function podLabelsOf(deployment: YamlMap): Record<string, string> {
  return labelsOf(at(deployment, 'spec.template.metadata.labels'), `${nameOf(deployment)} pod labels`);
}

/** The environment a container starts with: secret references resolved from the template. */
function resolvedEnvironment(container: YamlMap): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const source of asMaps(container['envFrom'] ?? [], 'envFrom')) {
    const configMap = at(source, 'configMapRef.name');
    const data = [
      ...(typeof configMap === 'string' ? Object.entries(configMaps.get(configMap) ?? {}) : []),
      ...(at(source, 'secretRef.name') === secretName ? Object.entries(secretData) : []),
    ];
    for (const [name, value] of data) environment[name] = scalarText(value);
  }
  for (const variable of asMaps(container['env'] ?? [], 'env')) {
    const name = scalarText(variable['name']);
    const key = at(variable, 'valueFrom.secretKeyRef.key');
    if (typeof variable['value'] === 'string') environment[name] = variable['value'];
    else if (typeof key === 'string') environment[name] = scalarText(secretData[key]);
  }
  for (const [name, value] of Object.entries(environment)) {
    if (value.includes('REPLACE_ME')) environment[name] = TEST_SECRET_VALUES[name] ?? '';
    // As at start-up: an empty value means "not set".
    if (environment[name]!.trim() === '') delete environment[name];
  }
  return environment;
}

// ---------------------------------------------------------------------------------------------

describe('Kubernetes manifests (deploy/k8s)', () => {
  it('parse, and every resource names its kind and name', () => {
    expect(manifestFiles).toEqual(expect.arrayContaining([KUSTOMIZATION, SECRET_TEMPLATE]));
    for (const document of resources) {
      expect(typeof document['apiVersion']).toBe('string');
      expect(typeof document['kind']).toBe('string');
      expect(nameOf(document)).toMatch(/^[a-z0-9-]+$/);
    }
  });

  it('kustomization lists every manifest except the secret template', () => {
    const kustomization = asMap(documentsByFile.get(KUSTOMIZATION)?.[0], KUSTOMIZATION);
    const listed = asList(kustomization['resources'], 'resources').map(String).sort();
    const expected = manifestFiles.filter((name) => name !== KUSTOMIZATION && name !== SECRET_TEMPLATE);
    expect(listed).toEqual(expected);
    expect(asMaps(kustomization['images'], 'images').map((image) => image['name'])).toContain('skyhook');
  });

  describe.each(SERVICES)('%s', (service) => {
    const deployment = (): YamlMap => deploymentOf(service);
    const container = (): YamlMap => containerOf(deployment());

    it('runs the image with the Dockerfile command convention and non-root user', () => {
      const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
      expect(dockerfile).toMatch(/^USER node$/m);
      expect(dockerfile).toMatch(/^CMD \["dist\/apps\/api\/src\/main\.js"\]$/m);
      expect(container()['image']).toBe('skyhook');
      expect(container()['command']).toBeUndefined(); // keeps the image's node entrypoint
      expect(container()['args']).toEqual([`dist/apps/${service}/src/main.js`]);
      expect(at(deployment(), 'spec.replicas')).toBeGreaterThanOrEqual(2);
    });

    it('selects its own pods', () => {
      const selector = labelsOf(at(deployment(), 'spec.selector.matchLabels'), 'selector');
      expect(selector['app.kubernetes.io/component']).toBe(service);
      expect(selects(selector, podLabelsOf(deployment()))).toBe(true);
      const others = ofKind('Deployment').filter((other) => other !== deployment());
      expect(others.filter((other) => selects(selector, podLabelsOf(other)))).toEqual([]);
    });

    it('probes /health/live and /health/ready on the port the service listens on', () => {
      const ports = asMaps(container()['ports'], 'ports');
      const environment = resolvedEnvironment(container());
      expect(environment['HOST']).toBe('0.0.0.0');
      const listening = ports.find((port) => scalarText(port['containerPort']) === environment['PORT']);
      expect(listening).toBeDefined();
      const portRefs = [listening!['name'], listening!['containerPort']];
      for (const [probe, path] of [
        ['livenessProbe', '/health/live'],
        ['readinessProbe', '/health/ready'],
      ] as const) {
        expect(at(container(), `${probe}.httpGet.path`)).toBe(path);
        expect(portRefs).toContain(at(container(), `${probe}.httpGet.port`));
        expect(Number(at(container(), `${probe}.timeoutSeconds`))).toBeGreaterThanOrEqual(1);
        expect(Number(at(container(), `${probe}.periodSeconds`))).toBeGreaterThanOrEqual(2);
      }
      const startup = at(container(), 'startupProbe.httpGet.path');
      if (startup !== undefined) expect(startup).toBe('/health/live');
    });

    it('gives the 30 s graceful drain time to finish, after any preStop pause', () => {
      const grace = Number(at(deployment(), 'spec.template.spec.terminationGracePeriodSeconds'));
      const preStop = asList(at(container(), 'lifecycle.preStop.exec.command') ?? [], 'preStop');
      const pause = preStop[0] === 'sleep' ? Number(preStop[1]) : 0;
      expect(grace).toBeGreaterThan(30 + pause);
    });

    it('runs non-root, read-only, without privileges or capabilities', () => {
      const pod = asMap(at(deployment(), 'spec.template.spec.securityContext'), 'pod securityContext');
      expect(pod['runAsNonRoot']).toBe(true);
      expect(pod['runAsUser']).toBe(1000); // uid of `node` in node:24-bookworm-slim
      const own = asMap(container()['securityContext'], 'container securityContext');
      expect(own['allowPrivilegeEscalation']).toBe(false);
      expect(own['readOnlyRootFilesystem']).toBe(true);
      expect(own['privileged']).not.toBe(true);
      expect(at(own, 'capabilities.drop')).toEqual(['ALL']);
    });

    it('requests and limits CPU and memory', () => {
      for (const bound of ['requests', 'limits']) {
        for (const resource of ['cpu', 'memory']) {
          expect(scalarText(at(container(), `resources.${bound}.${resource}`))).toMatch(
            /^\d+(?:\.\d+)?(?:m|Mi|Gi)?$/,
          );
        }
      }
    });

    it('sets every variable its configuration requires, with values its schema accepts', () => {
      const environment = resolvedEnvironment(container());
      for (const name of requiredVariables(service)) {
        expect({ name, set: name in environment }).toEqual({ name, set: true });
      }
      expect(environment['NODE_ENV']).toBe('production');
      expect(environment['KAFKA_REPLICATION_FACTOR']).toBe('3');
      expect(environment['SKYHOOK_ALLOW_HTTP_LOOPBACK']).not.toBe('true');
      const parsed = sharedSchemas[service].safeParse(environment);
      expect(parsed.error?.issues ?? []).toEqual([]);
    });

    it('takes secrets only by reference to the Secret, and only keys the template defines', () => {
      for (const variable of asMaps(container()['env'] ?? [], 'env')) {
        const reference = at(variable, 'valueFrom.secretKeyRef');
        if (SECRET_VARIABLES.includes(scalarText(variable['name']))) {
          expect(variable['value']).toBeUndefined();
          expect(reference).toBeDefined();
        }
        if (reference !== undefined) {
          expect(at(variable, 'valueFrom.secretKeyRef.name')).toBe(secretName);
          expect(Object.keys(secretData)).toContain(at(variable, 'valueFrom.secretKeyRef.key'));
        }
      }
      for (const source of asMaps(container()['envFrom'] ?? [], 'envFrom')) {
        const configMap = at(source, 'configMapRef.name');
        if (configMap !== undefined) expect([...configMaps.keys()]).toContain(configMap);
        const secret = at(source, 'secretRef.name');
        if (secret !== undefined) expect(secret).toBe(secretName);
      }
    });

    it('has a disruption budget that leaves pods running', () => {
      const budgets = ofKind('PodDisruptionBudget').filter((budget) =>
        selects(labelsOf(at(budget, 'spec.selector.matchLabels'), 'pdb selector'), podLabelsOf(deployment())),
      );
      expect(budgets).toHaveLength(1);
      const maxUnavailable = at(budgets[0]!, 'spec.maxUnavailable');
      const minAvailable = at(budgets[0]!, 'spec.minAvailable');
      const replicas = Number(at(deployment(), 'spec.replicas'));
      if (maxUnavailable !== undefined) expect(Number(maxUnavailable)).toBeLessThan(replicas);
      else expect(Number(minAvailable)).toBeGreaterThanOrEqual(1);
    });

    it('is scraped for metrics through a Service selecting its pods', () => {
      const scraped = ofKind('Service').filter(
        (candidate) =>
          selects(labelsOf(at(candidate, 'spec.selector'), 'service selector'), podLabelsOf(deployment())) &&
          at(candidate, 'metadata.annotations') !== undefined,
      );
      expect(scraped.length).toBeGreaterThanOrEqual(1);
      const annotations = asMap(at(scraped[0]!, 'metadata.annotations'), 'annotations');
      expect(annotations['prometheus.io/scrape']).toBe('true');
      expect(annotations['prometheus.io/path']).toBe('/metrics');
      expect(annotations['prometheus.io/port']).toBe(resolvedEnvironment(container())['PORT']);
    });
  });

  it('every Service selects exactly one Deployment and targets a port its container names', () => {
    expect(ofKind('Service').map(nameOf)).toContain('skyhook-api');
    for (const service of ofKind('Service')) {
      const selector = labelsOf(at(service, 'spec.selector'), `${nameOf(service)} selector`);
      const targets = ofKind('Deployment').filter((deployment) => selects(selector, podLabelsOf(deployment)));
      expect({ service: nameOf(service), selected: targets.length }).toEqual({
        service: nameOf(service),
        selected: 1,
      });
      const containerPorts = asMaps(containerOf(targets[0]!)['ports'], 'ports');
      for (const port of asMaps(at(service, 'spec.ports'), 'ports')) {
        const target = port['targetPort'] ?? port['port'];
        expect(
          containerPorts.some((candidate) =>
            [candidate['name'], candidate['containerPort']].includes(target),
          ),
        ).toBe(true);
      }
    }
  });

  it('keeps secrets out of ConfigMaps and ships the Secret only as a template with placeholders', () => {
    expect(ofKind('Secret')).toEqual([]);
    for (const [name, data] of configMaps) {
      for (const [key, value] of Object.entries(data)) {
        expect({ configMap: name, key, isString: typeof value === 'string' }).toEqual({
          configMap: name,
          key,
          isString: true,
        });
        expect(SECRET_VARIABLES).not.toContain(key);
      }
    }
    expect(secretTemplate['kind']).toBe('Secret');
    for (const [key, value] of Object.entries(secretData)) {
      expect(typeof value).toBe('string');
      const text = scalarText(value);
      // Every value someone must fill in is marked; optional ones stay empty.
      if (text !== '')
        expect({ key, placeholder: text.includes('REPLACE_ME') }).toEqual({ key, placeholder: true });
    }
  });

  it('gives the portal no secret, points it at the api Service, and mints links to an https portal', () => {
    const portal = resolvedEnvironment(containerOf(deploymentOf('portal')));
    for (const name of SECRET_VARIABLES) expect({ name, set: name in portal }).toEqual({ name, set: false });
    const apiService = ofKind('Service').find((service) => nameOf(service) === 'skyhook-api');
    expect(portal['SKYHOOK_API_URL']).toBe(`http://${nameOf(apiService ?? {})}`);
    const api = resolvedEnvironment(containerOf(deploymentOf('api')));
    expect(api['PORTAL_PUBLIC_URL']).toMatch(/^https:\/\//);
  });

  it('network policies apply to Skyhook pods', () => {
    for (const policy of ofKind('NetworkPolicy')) {
      const podSelector = asMap(at(policy, 'spec.podSelector'), 'podSelector');
      const matchLabels = labelsOf(podSelector['matchLabels'] ?? {}, 'matchLabels');
      const expressions = asMaps(podSelector['matchExpressions'] ?? [], 'matchExpressions');
      const selected = ofKind('Deployment').filter((deployment) => {
        const labels = podLabelsOf(deployment);
        return (
          selects(matchLabels, labels) &&
          expressions.every((expression) =>
            asList(expression['values'], 'values').includes(labels[scalarText(expression['key'])] ?? ''),
          )
        );
      });
      expect(selected.length).toBeGreaterThanOrEqual(1);
    }
  });
});

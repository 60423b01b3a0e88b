import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveMavenClasspath, workspaceRoot } from '@skyhook/local-infrastructure';

const execFileAsync = promisify(execFile);

export const CHART_DIRECTORY = join(workspaceRoot(), 'deploy', 'helm', 'skyhook');
const RENDERER_DIRECTORY = join(workspaceRoot(), 'libs', 'deploy-manifests', 'helm');

export interface ChartRendering {
  readonly release: string;
  readonly namespace: string;
  /** Values files over the chart's own values.yaml, later ones winning. */
  readonly valuesFiles?: readonly string[];
}

/**
 * `helm lint --strict` and `helm template` of Skyhook's chart, with Helm's own code run from
 * Maven Central (helm-java, ADR 0034): the rendered manifests as Helm prints them. Rejects with
 * the lint's messages or Helm's error.
 */
export async function renderChart({ release, namespace, valuesFiles = [] }: ChartRendering): Promise<string> {
  const classpath = await resolveMavenClasspath(
    join(RENDERER_DIRECTORY, 'pom.xml'),
    'Helm (helm-java)',
    (line) => process.stderr.write(`[helm] ${line}\n`),
  );
  const { stdout } = await execFileAsync(
    'java',
    [
      '-cp',
      classpath,
      join(RENDERER_DIRECTORY, 'HelmTemplate.java'),
      CHART_DIRECTORY,
      release,
      namespace,
      ...valuesFiles,
    ],
    { maxBuffer: 32 * 1024 * 1024 },
  );
  return stdout;
}

/** Where the chart rendered with its defaults is kept for kustomize users. */
export const KUSTOMIZE_BASE_FILE = join(workspaceRoot(), 'deploy', 'k8s', 'skyhook.yaml');

/**
 * deploy/k8s/skyhook.yaml as it must read: the chart with its default values, release `skyhook`
 * (resources `skyhook-api`, `skyhook-config`, …), under a header saying where it comes from.
 */
export async function kustomizeBase(): Promise<string> {
  const rendered = await renderChart({ release: 'skyhook', namespace: 'skyhook' });
  return (
    '# GENERATED from deploy/helm/skyhook with its default values (`npm run deploy:render`): edit the\n' +
    '# chart, not this file. A unit test fails when the two differ. kustomization.yaml sets the\n' +
    '# namespace and the image; the Secret is yours (secret.example.yaml).\n' +
    rendered.replace(/^---\n/, '')
  );
}

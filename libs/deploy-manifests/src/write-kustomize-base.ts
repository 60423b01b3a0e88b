// `npm run deploy:render`: writes deploy/k8s/skyhook.yaml from the Helm chart, so the chart is the
// one source of both installs.
import { writeFile } from 'node:fs/promises';
import { kustomizeBase, KUSTOMIZE_BASE_FILE } from './helm-chart';

void kustomizeBase()
  .then((text) => writeFile(KUSTOMIZE_BASE_FILE, text))
  .then(() => console.log(`wrote ${KUSTOMIZE_BASE_FILE}`));

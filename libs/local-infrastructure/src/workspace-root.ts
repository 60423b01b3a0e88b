import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The directory holding nx.json, whether this code runs from sources or from dist/. */
export function workspaceRoot(): string {
  let directory = __dirname;
  while (!existsSync(join(directory, 'nx.json'))) {
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`no nx.json above ${__dirname}`);
    directory = parent;
  }
  return directory;
}

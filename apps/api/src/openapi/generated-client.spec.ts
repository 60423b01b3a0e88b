import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { openApiDocumentText } from './write-openapi-document';

const WORKSPACE = join(__dirname, '..', '..', '..', '..');
const COMMITTED = join(WORKSPACE, 'libs', 'api-client', 'src', 'generated');

function filesUnder(directory: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(directory, path), readFileSync(path, 'utf8'));
    }
  };
  walk(directory);
  return files;
}

describe('the typed client in libs/api-client', () => {
  it('is what the generator makes of the routes the api serves today (else: npm run generate:client)', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'skyhook-client-'));
    try {
      const document = join(scratch, 'openapi.json');
      writeFileSync(document, openApiDocumentText());
      execFileSync(
        process.execPath,
        [
          join(WORKSPACE, 'node_modules', '@hey-api', 'openapi-ts', 'bin', 'run.js'),
          '-f',
          join(WORKSPACE, 'libs', 'api-client', 'openapi-ts.config.mjs'),
        ],
        {
          cwd: WORKSPACE,
          env: {
            ...process.env,
            SKYHOOK_OPENAPI_DOCUMENT: document,
            SKYHOOK_CLIENT_OUTPUT: join(scratch, 'generated'),
          },
          stdio: 'pipe',
        },
      );
      const fresh = filesUnder(join(scratch, 'generated'));
      const committed = filesUnder(COMMITTED);
      expect([...committed.keys()].sort()).toEqual([...fresh.keys()].sort());
      const stale = [...fresh].filter(([path, text]) => committed.get(path) !== text).map(([path]) => path);
      expect(stale).toEqual([]);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 60_000);
});

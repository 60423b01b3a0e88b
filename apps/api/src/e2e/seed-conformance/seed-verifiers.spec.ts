import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

/**
 * The seed-conformance verifiers are Python receivers written from each company's public
 * webhook documentation; their own unittest suite proves they accept conforming captures and
 * reject broken ones. This runs that suite so `jest` covers it.
 */
describe('seed-conformance verifiers (python3 unittest)', () => {
  it('pass their own tests', () => {
    const verifiers = path.join(__dirname, 'verifiers');
    const result = spawnSync('python3', ['-m', 'unittest', 'discover', '-s', verifiers, '-p', 'test_*.py'], {
      encoding: 'utf8',
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
      timeout: 120_000,
    });
    if (result.error !== undefined || result.status !== 0) {
      console.error(result.error?.message ?? '', result.stdout, result.stderr);
    }
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(0);
  });
});

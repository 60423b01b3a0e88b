import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type InfrastructureLog } from './infrastructure-log';

const execFileAsync = promisify(execFile);

/**
 * The runtime classpath of a pom's dependencies: `mvn dependency:build-classpath` once per pom
 * content (Maven keeps the jars in its local repository); later calls read the cached list, as
 * long as every jar on it is still there.
 */
export async function resolveMavenClasspath(
  pomFile: string,
  what: string,
  log: InfrastructureLog,
): Promise<string> {
  const pom = await readFile(pomFile);
  const cacheDir = join(homedir(), '.cache', 'skyhook');
  const cacheFile = join(
    cacheDir,
    `classpath-${createHash('sha256').update(pom).digest('hex').slice(0, 16)}.txt`,
  );
  if (existsSync(cacheFile)) {
    const cached = (await readFile(cacheFile, 'utf8')).trim();
    if (cached.split(':').every((jar) => existsSync(jar))) return cached;
  }
  await mkdir(cacheDir, { recursive: true });
  log(`resolving ${what} with Maven (first run only)`);
  await execFileAsync(
    'mvn',
    [
      '-B',
      '-q',
      '-f',
      pomFile,
      'dependency:build-classpath',
      '-Dmdep.includeScope=runtime',
      `-Dmdep.outputFile=${cacheFile}`,
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return (await readFile(cacheFile, 'utf8')).trim();
}

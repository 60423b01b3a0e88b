import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceRoot } from '@skyhook/local-infrastructure';

// The fixtures are not part of the build output, so they are found from the workspace root: the same
// path whether this runs from the TypeScript sources (jest) or from dist/.
const TLS_FIXTURES_DIRECTORY = join(workspaceRoot(), 'libs', 'testing', 'fixtures', 'tls');

/**
 * The test CA (PEM) that signed the `localhost` certificate of the test webhook receiver. Test-only:
 * give it to a client as `ca`, or to a spawned process as `NODE_EXTRA_CA_CERTS`.
 */
export const TEST_CA_CERT_PATH = join(TLS_FIXTURES_DIRECTORY, 'ca.pem');

export interface TestTlsCredentials {
  /** The test CA certificate (PEM). */
  ca: string;
  /** The server certificate for `localhost`, 127.0.0.1 and ::1 (PEM), signed by the test CA. */
  cert: string;
  /** The server certificate's private key (PEM). */
  key: string;
}

let credentials: TestTlsCredentials | undefined;

/** The test CA and the `localhost` server certificate with its key, read once. Test-only. */
export function testTlsCredentials(): TestTlsCredentials {
  credentials ??= {
    ca: readFileSync(TEST_CA_CERT_PATH, 'utf8'),
    cert: readFileSync(join(TLS_FIXTURES_DIRECTORY, 'localhost.pem'), 'utf8'),
    key: readFileSync(join(TLS_FIXTURES_DIRECTORY, 'localhost-key.pem'), 'utf8'),
  };
  return { ...credentials };
}

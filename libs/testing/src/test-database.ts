import { dropDatabase, ensureDatabase } from '@skyhook/local-infrastructure';
import { testPostgresAdminUrl } from './test-infrastructure-env';
import { uniqueSuffix } from './unique-names';

/** A fresh, empty database for one test file; the real migrations build its schema. */
export interface TestDatabase {
  readonly url: string;
  readonly name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const name = `skyhook_test_${label.replace(/[^a-z0-9]/g, '_').slice(0, 30)}_${uniqueSuffix()}`;
  const adminUrl = testPostgresAdminUrl();
  const url = await ensureDatabase(adminUrl, name);
  return { url, name, drop: () => dropDatabase(adminUrl, name) };
}

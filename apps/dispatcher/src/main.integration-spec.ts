import { randomBytes } from 'node:crypto';
import { describeServiceStartup } from '@skyhook/testing';

describeServiceStartup('dispatcher', {
  usesDatabase: false,
  requiredEnvironment: { SECRETS_MASTER_KEY: randomBytes(32).toString('base64') },
});

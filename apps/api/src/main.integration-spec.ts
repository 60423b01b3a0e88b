import { randomBytes } from 'node:crypto';
import { describeServiceStartup } from '@skyhook/testing';

describeServiceStartup('api', {
  usesDatabase: true,
  requiredEnvironment: { SECRETS_MASTER_KEY: randomBytes(32).toString('base64') },
});

import { describeServiceStartup } from '@skyhook/testing';

describeServiceStartup('api', { usesDatabase: true });

import { describeServiceStartup } from '@skyhook/testing';

describeServiceStartup('history', { usesDatabase: true });

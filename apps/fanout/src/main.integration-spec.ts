import { describeServiceStartup } from '@skyhook/testing';

describeServiceStartup('fanout', { usesDatabase: false });

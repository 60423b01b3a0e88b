import { describeServiceStartup } from '@skyhook/testing';

describeServiceStartup('dispatcher', { usesDatabase: false });

// `npm start` runs the runner with plain node: from here on, `@skyhook/*` imports (the api's
// client, for the demo) resolve against the build output, as `-r tsconfig-paths/register` does
// for the services. Imported first by run-stack.ts, before anything that needs it.
import { join } from 'node:path';
import { register } from 'tsconfig-paths';
import { workspaceRoot } from '../workspace-root';

register({ baseUrl: join(workspaceRoot(), 'dist'), paths: { '@skyhook/*': ['libs/*/src'] } });

import { join } from 'node:path';
import { register } from 'tsconfig-paths';

// Compiled to dist/apps/cli/src/: the libraries are compiled beside it, under dist/libs/<name>/src.
register({ baseUrl: join(__dirname, '..', '..', '..'), paths: { '@skyhook/*': ['libs/*/src'] } });

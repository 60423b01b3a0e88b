#!/usr/bin/env node
// First: resolves `@skyhook/*` against the build output, so `skyhook` runs without `-r tsconfig-paths/register`.
import './workspace-paths';
import { runCli } from './skyhook-cli';

void runCli(process.argv.slice(2), {
  environment: process.env,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}).then((code) => {
  process.exitCode = code;
});

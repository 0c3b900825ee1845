#!/usr/bin/env node
// The `cbe` command (package.json "bin"): runs the compiled CLI, building it first when the
// sources changed (or were never built), so `npx cbe` works right after `npm ci`.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = resolve(import.meta.dirname, '..');
const build = spawnSync(process.execPath, [resolve(root, 'scripts/build-if-stale.js')], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (build.status !== 0) process.exit(build.status ?? 1);
const cli = await import(pathToFileURL(resolve(root, 'dist/src/cli/cbe.js')).href);
process.exitCode = await cli.runCli(process.argv);

#!/usr/bin/env node
// `npm run build`: compiles src/ into dist/ (tsconfig.build.json). tsc
// writes a fresh directory beside dist/, which then takes its place by two
// renames: the command line (dist/cli.js) keeps working while `npm test`
// rebuilds it, instead of missing for the whole compile, and no stale file of
// a removed module survives.
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(process.argv[1], '..', '..');
const dist = path.join(root, 'dist');
const next = path.join(root, `dist.next-${process.pid}`);
const old = path.join(root, `dist.old-${process.pid}`);
const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');

const build = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', next], {
  stdio: 'inherit',
});
if (build.status !== 0) {
  fs.rmSync(next, { recursive: true, force: true });
  process.exit(build.status ?? 1);
}
if (fs.existsSync(dist)) fs.renameSync(dist, old);
fs.renameSync(next, dist);
fs.rmSync(old, { recursive: true, force: true });

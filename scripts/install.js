#!/usr/bin/env node
// The package's install step: compiles the addon with node-gyp, after
// checking for the tools that needs, so that a missing one is named with the
// way to get it instead of surfacing as make's "error 127".
'use strict';
const { spawnSync } = require('node:child_process');

const TOOLS = [
  { name: process.env.CXX || 'g++', what: 'a C++ compiler', debian: 'g++' },
  { name: 'make', what: 'make', debian: 'make' },
  { name: 'python3', what: 'Python 3 (node-gyp runs gyp with it)', debian: 'python3' },
];

function fail(lines) {
  process.stderr.write(
    `\nbidirectional-ipc: cannot build the native addon:\n${lines.map((l) => `  - ${l}`).join('\n')}\n\n`,
  );
  process.exit(1);
}

if (process.platform !== 'linux') {
  fail([`it supports Linux only; this is ${process.platform}`]);
}
const missing = TOOLS.filter((tool) => spawnSync(tool.name, ['--version'], { stdio: 'ignore' }).error);
if (missing.length > 0) {
  fail([
    ...missing.map((tool) => `${tool.what} is missing (no \`${tool.name}\` on PATH)`),
    `Debian/Ubuntu: apt-get install ${missing.map((tool) => tool.debian).join(' ')}; ` +
      'Fedora: dnf install gcc-c++ make python3; Alpine: apk add build-base python3',
    'then run `npm rebuild bidirectional-ipc`',
  ]);
}

// npm names its own node-gyp for install scripts; elsewhere use the one on PATH.
const gyp = process.env.npm_config_node_gyp;
const [command, args] = gyp ? [process.execPath, [gyp, 'rebuild']] : ['node-gyp', ['rebuild']];
const build = spawnSync(command, args, { stdio: 'inherit' });
if (build.error || build.status !== 0) {
  fail([
    `node-gyp rebuild failed (${build.error ? build.error.message : `exit status ${build.status}`}); its output is above`,
    `this Node is ${process.version}; the package is tested on Node 22, 24 and 26`,
    'then run `npm rebuild bidirectional-ipc`',
  ]);
}

#!/usr/bin/env node
// The package's install step: the core addon (the system calls) must be
// there, prebuilt for this platform (prebuilds/, when it loads here) or
// compiled; then the fork engine, prebuilt for the Node releases it was
// verified on, is compiled for any other Node, which may fail without failing
// the install: fork() then refuses, saying why, and every other call works.
// The tools a build needs are checked first, so that a missing one is named
// with the way to get it instead of surfacing as make's "error 127".
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(process.argv[1], '..', '..'); // scripts/install.js's package
const { engines } = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const SUPPORTED = `fork() is supported on Node ${engines.node}`;
// After a failed install npm removes the package again, so `npm rebuild` has nothing to rebuild.
const AGAIN = 'then run the same `npm install` again';

const TOOLS = [
  { name: process.env.CXX || 'g++', what: 'a C++ compiler', debian: 'g++' },
  { name: 'make', what: 'make', debian: 'make' },
  { name: 'python3', what: 'Python 3 (node-gyp runs gyp with it)', debian: 'python3' },
];

function say(lines) {
  process.stderr.write(
    `\nbidirectional-ipc: ${lines[0]}\n${lines
      .slice(1)
      .map((l) => `  - ${l}\n`)
      .join('')}\n`,
  );
}

function fail(lines) {
  say(['cannot build the native addon:', ...lines]);
  process.exit(1);
}

/** Whether `version` (x.y.z) satisfies a range of `^x.y.z` alternatives joined by `||`. */
function satisfies(version, range) {
  const [major, minor, patch] = version.split('.').map(Number);
  return range.split('||').some((alternative) => {
    const [lowMajor, lowMinor, lowPatch] = alternative.trim().replace(/^\^/, '').split('.').map(Number);
    if (major !== lowMajor) return false;
    return minor > lowMinor || (minor === lowMinor && patch >= lowPatch);
  });
}

if (process.platform !== 'linux') {
  fail([`it supports Linux only; this is ${process.platform}`]);
}

/** Whether addon `file` is there and loads in a Node of its own (a prebuilt one is built for glibc: on musl it does not). */
function loadsHere(file) {
  return (
    fs.existsSync(file) &&
    spawnSync(process.execPath, ['-e', `require(${JSON.stringify(file)})`], { stdio: 'ignore' }).status === 0
  );
}

// The prebuilt core, if the package carries one for this platform and it
// loads here; else it is compiled.
const prebuilds = path.join(root, 'prebuilds', `${process.platform}-${process.arch}`);
const prebuilt = path.join(prebuilds, 'bidirectional_ipc_core.node');
const prebuiltLoads = loadsHere(prebuilt);

// The fork engine prebuilt for this ABI (scripts/prebuild.sh) serves only the
// releases its JSON lists (src/native.ts refuses it on any other): on those,
// and where it loads, it is not compiled.
const prebuiltEngine = path.join(prebuilds, `bidirectional_ipc_fork.abi${process.versions.modules}`);
function prebuiltEngineServes() {
  try {
    const { verifiedOn } = JSON.parse(fs.readFileSync(`${prebuiltEngine}.json`, 'utf8'));
    return verifiedOn.includes(process.versions.node) && loadsHere(`${prebuiltEngine}.node`);
  } catch {
    return false;
  }
}
const engineIsPrebuilt = prebuiltEngineServes();
function sayEnginePrebuilt() {
  say([`the fork engine is prebuilt for this Node (${process.version}): not compiled`]);
  process.exit(0);
}
if (prebuiltLoads && engineIsPrebuilt) sayEnginePrebuilt();

const missing = TOOLS.filter((tool) => spawnSync(tool.name, ['--version'], { stdio: 'ignore' }).error);
if (missing.length > 0) {
  const lines = [
    ...missing.map((tool) => `${tool.what} is missing (no \`${tool.name}\` on PATH)`),
    `Debian/Ubuntu: apt-get install ${missing.map((tool) => tool.debian).join(' ')}; ` +
      'Fedora: dnf install gcc-c++ make python3; Alpine: apk add build-base python3',
  ];
  if (!prebuiltLoads) fail([...lines, AGAIN]);
  say([
    'the fork engine is not built: it is compiled for the running Node, and',
    ...lines,
    'then `npm rebuild bidirectional-ipc` builds it; until then every call but fork() works (the core is prebuilt)',
  ]);
  process.exit(0);
}

// npm names its own node-gyp for install scripts; elsewhere use the one on PATH.
function nodeGyp(...args) {
  const gyp = process.env.npm_config_node_gyp;
  const [command, prefix] = gyp ? [process.execPath, [gyp]] : ['node-gyp', []];
  const run = spawnSync(command, [...prefix, ...args], { cwd: root, stdio: 'inherit' });
  return run.error ? run.error.message : run.status === 0 ? null : `exit status ${run.status}`;
}

const release = path.join(root, 'build', 'Release');
const configureFailed = nodeGyp('configure');
const coreFailed = prebuiltLoads ? null : configureFailed || nodeGyp('build', 'bidirectional_ipc_core');
if (coreFailed) {
  fail([
    `node-gyp failed (${coreFailed}); its output is above`,
    `this Node is ${process.version}; ${SUPPORTED}`,
    AGAIN,
  ]);
}
if (engineIsPrebuilt) sayEnginePrebuilt();

// The fork engine mirrors internals of this Node: the core says which libuv
// versions they were checked for (native/checked_uv.h).
const { checkedUv } = require(prebuiltLoads ? prebuilt : path.join(release, 'bidirectional_ipc_core.node'));
const checkedRange = `libuv ${checkedUv.first} to ${checkedUv.last}`;
function uvChecked(version) {
  const [major, minor] = version.split('.').map(Number);
  const minorOf = (checked) => Number(checked.split('.')[1]);
  return major === 1 && minor >= minorOf(checkedUv.first) && minor <= minorOf(checkedUv.last);
}
const noFork = 'every call but fork() works; fork() throws an error saying why';
if (!uvChecked(process.versions.uv)) {
  say([
    `the fork engine is not built: this Node (${process.version}) has libuv ${process.versions.uv}, ` +
      `and the internals it mirrors were checked for ${checkedRange} only`,
    noFork,
    SUPPORTED,
  ]);
  process.exit(0);
}
const engineFailed = configureFailed || nodeGyp('build', 'bidirectional_ipc_fork');
if (engineFailed) {
  say([
    `the fork engine could not be built for Node ${process.version} (${engineFailed}); its output is above`,
    noFork,
    `${SUPPORTED}; once the cause above is fixed, \`npm rebuild bidirectional-ipc\` builds it`,
  ]);
  process.exit(0);
}
// The headers it was compiled with (npm's nodedir) may be another Node's; read in a
// process of its own, as loading the engine prepares that process for fork().
const engine = path.join(release, 'bidirectional_ipc_fork.node');
const builtUv = spawnSync(process.execPath, ['-p', `require(${JSON.stringify(engine)}).builtFor.uv`], {
  encoding: 'utf8',
}).stdout.trim();
if (!uvChecked(builtUv)) {
  say([
    `the fork engine was built against libuv ${builtUv || '(unknown: it does not load)'}, ` +
      `and the internals it mirrors were checked for ${checkedRange} only`,
    noFork,
    SUPPORTED,
  ]);
} else if (!satisfies(process.versions.node, engines.node)) {
  say([`this Node (${process.version}) is not one the package is tested on; ${SUPPORTED}`]);
}

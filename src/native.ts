// Loads the two addons and types them: the core (the system calls) when the
// package is imported, the fork engine on the first fork(). Their calls'
// types come from src/calls.ts, the one description of each.
import * as fs from 'node:fs';
import * as path from 'node:path';
import bindings from 'bindings';
import { type AddonCalls, callsOf, type CONSTANTS } from './calls';
import { packageError, SyscallError } from './errors';
import { PACKAGE_ROOT } from './internal/paths';

/** The core addon (native/addon.cc) as built, before any argument validation: src/calls.ts describes its calls. */
export interface NativeModule extends AddonCalls<'core'> {
  /** The libuv versions (1.x) whose internals the fork engine was checked against. */
  checkedUv: { first: string; last: string };
  constants: Record<(typeof CONSTANTS)[number], number>;
}

/** The fork engine (native/engine.cc): fork() and what only it needs, loaded by the first fork(). */
export interface ForkEngine extends AddonCalls<'engine'> {
  /** The Node the engine was compiled for: it depends on that Node's internals. */
  builtFor: { node: string; modules: number; uv: string };
  internal: AddonCalls<'engine', true>;
}

/** What only the lessons and the tests call: the core's `internal` object and the engine's (which the call loads). */
export type NativeInternals = AddonCalls<'core', true> & AddonCalls<'engine', true>;

/** Where node-gyp puts the addons in this package. */
const BUILT = path.join(PACKAGE_ROOT, 'build', 'Release');
/**
 * Where the packed package carries the core prebuilt for this platform, laid
 * out as node-pty lays out its prebuilds: one directory per platform-arch.
 */
const PREBUILT = path.join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`);

/**
 * The fork engine the packed package carries prebuilt for this ABI
 * (scripts/prebuild.sh), tagged with it as prebuildify names its builds.
 * Beside it, a JSON ({@link PrebuiltEngineRecord}) with the same name.
 */
const PREBUILT_ENGINE = path.join(PREBUILT, `bidirectional_ipc_fork.abi${process.versions.modules}.node`);

/** What scripts/prebuild.sh records beside the prebuilt engine. */
interface PrebuiltEngineRecord {
  builtFor: ForkEngine['builtFor'];
  /** The releases of its Node line the fork tests passed on with this one engine, lowest first. */
  verifiedOn: string[];
}

/** What to do about an addon that is missing or does not load. */
export const REBUILD_ADVICE =
  'Rebuild it for this Node with `npm rebuild bidirectional-ipc` (in this repository: `npm install`); ' +
  'that needs a C++ compiler, make and python3 (Debian/Ubuntu: apt-get install build-essential python3).';

type AddonName = 'bidirectional_ipc_core' | 'bidirectional_ipc_fork';

/**
 * Where addon `name` may be, in order: BIDIRECTIONAL_IPC_BUILD alone if set,
 * a directory holding another build of both (such as the sanitizer build
 * that `npm run test:sanitize` loads); else node-gyp's Release directory (a
 * local build wins), then the prebuilt one.
 */
function candidates(name: AddonName): string[] {
  const override = process.env.BIDIRECTIONAL_IPC_BUILD;
  if (override) return [path.join(override, `${name}.node`)];
  const local = path.join(BUILT, `${name}.node`);
  return [local, name === 'bidirectional_ipc_core' ? path.join(PREBUILT, `${name}.node`) : PREBUILT_ENGINE];
}

/**
 * Refuses the prebuilt engine, before loading it (the load prepares the
 * process for fork()), on a release it was not verified on: a release of the
 * same ABI and libuv may still have changed an internal the engine mirrors.
 */
function refuseUnverifiedEngine(file: string): void {
  const recordFile = file.replace(/\.node$/, '.json');
  let verifiedOn: string[] = [];
  try {
    ({ verifiedOn } = JSON.parse(fs.readFileSync(recordFile, 'utf8')) as PrebuiltEngineRecord);
  } catch {
    // No record, or not one scripts/prebuild.sh wrote: verified on none.
  }
  if (verifiedOn.includes(process.versions.node)) return;
  const verified =
    verifiedOn.length > 0
      ? `was verified on ${verifiedOn.length} releases, Node ${verifiedOn[0]} to ${verifiedOn.at(-1)}, only`
      : `has no readable record of the releases it was verified on (${recordFile})`;
  throw packageError(
    'ERR_FORK_ENGINE_NOT_VERIFIED',
    `fork() refused: no fork engine was compiled for Node ${process.versions.node}, and the one ` +
      `the package carries prebuilt ${verified}. ${REBUILD_ADVICE}`,
  );
}

/** Loads the first of {@link candidates} that exists, else one `bindings` finds (Debug builds, other tools). */
function loadBuild(name: AddonName): unknown {
  for (const file of candidates(name)) {
    if (!fs.existsSync(file)) continue;
    if (file === PREBUILT_ENGINE) refuseUnverifiedEngine(file);
    try {
      return require(file);
    } catch (error) {
      throw packageError(
        'ERR_ADDON_NOT_LOADED',
        `the bidirectional-ipc addon ${file} could not be loaded (${(error as Error).message.split('\n')[0]}). ` +
          REBUILD_ADVICE,
      );
    }
  }
  if (process.env.BIDIRECTIONAL_IPC_BUILD) return undefined;
  try {
    return bindings(name);
  } catch {
    return undefined;
  }
}

function loadCore(): NativeModule & { internal: AddonCalls<'core', true> } {
  if (process.platform !== 'linux') {
    throw packageError(
      'ERR_UNSUPPORTED_PLATFORM',
      `bidirectional-ipc supports Linux only; this is ${process.platform}. ` +
        'Its fork() depends on Linux madvise(2) flags and /proc.',
    );
  }
  const core = loadBuild('bidirectional_ipc_core');
  if (core === undefined) {
    throw packageError(
      'ERR_ADDON_NOT_BUILT',
      `the bidirectional-ipc addon is not built (no ${candidates('bidirectional_ipc_core')[0]}): ` +
        `the install step that compiles it failed or was skipped (--ignore-scripts). ${REBUILD_ADVICE}`,
    );
  }
  return core as NativeModule & { internal: AddonCalls<'core', true> };
}

// A copy by rest (as a spread would): the object the addon fills is in V8's
// dictionary mode (too many properties added one by one), whose property loads
// stay out of optimized code; a literal's are inlined. Every read and write loads one.
const { internal, ...calls } = loadCore();
export const native: NativeModule = calls;

/** 1.52.0 -> [1, 52]. */
function majorMinor(version: string): [number, number] {
  const [major, minor] = version.split('.').map(Number);
  return [major, minor];
}

function uvChecked(version: string): boolean {
  const [major, minor] = majorMinor(version);
  const [, first] = majorMinor(native.checkedUv.first);
  const [, last] = majorMinor(native.checkedUv.last);
  return major === 1 && minor >= first && minor <= last;
}

/** `uv`: the libuv version found, this Node's or the one the engine was built against. */
function unsupportedNode(uv: string): Error {
  const { first, last } = native.checkedUv;
  return packageError(
    'ERR_FORK_UNSUPPORTED_NODE',
    `fork() does not support Node ${process.versions.node} with libuv ${uv}: its fork engine ` +
      `mirrors libuv internals checked for libuv ${first} to ${last} only. Every call but fork() works; ` +
      'README.md lists the Node versions fork() supports.',
  );
}

let engine: ForkEngine | undefined;

/**
 * The fork engine, loaded on first use after checking that it was built for
 * this Node and that this Node's libuv is one its internals were checked
 * against: a mismatched engine would corrupt Node's state (the parent aborts
 * inside fork()). Throws ERR_FORK_UNSUPPORTED_NODE, ERR_ADDON_NOT_BUILT,
 * ERR_FORK_ENGINE_NOT_VERIFIED or ERR_ADDON_BUILT_FOR_OTHER_NODE instead.
 */
export function forkEngine(): ForkEngine {
  if (engine !== undefined) return engine;
  if (!uvChecked(process.versions.uv)) throw unsupportedNode(process.versions.uv);
  const loaded = loadBuild('bidirectional_ipc_fork') as ForkEngine | undefined;
  if (loaded === undefined) {
    throw packageError(
      'ERR_ADDON_NOT_BUILT',
      `fork() needs the fork engine, which is not built for Node ${process.versions.node} ` +
        `(no ${candidates('bidirectional_ipc_fork')[0]}; the install builds it and says why it could not). ` +
        REBUILD_ADVICE,
    );
  }
  const built = loaded.builtFor;
  if (!uvChecked(built.uv)) throw unsupportedNode(built.uv);
  if (built.modules !== Number(process.versions.modules) || built.uv !== process.versions.uv) {
    throw packageError(
      'ERR_ADDON_BUILT_FOR_OTHER_NODE',
      `fork() refused: the fork engine was compiled for Node ${built.node} ` +
        `(ABI ${built.modules}, libuv ${built.uv}) and this is Node ${process.versions.node} ` +
        `(ABI ${process.versions.modules}, libuv ${process.versions.uv}). ${REBUILD_ADVICE}`,
    );
  }
  loaded.setErrorClass(SyscallError);
  engine = loaded;
  return engine;
}

/** For the lessons and the tests only: the engine's load with the first call of one of its own. */
export const nativeInternals = Object.fromEntries([
  ...callsOf('core', true).map((name) => [name, internal[name as keyof typeof internal]]),
  ...callsOf('engine', true).map((name) => [
    name,
    (...args: unknown[]) =>
      (forkEngine().internal[name as keyof ForkEngine['internal']] as (...args: unknown[]) => unknown)(...args),
  ]),
]) as NativeInternals;

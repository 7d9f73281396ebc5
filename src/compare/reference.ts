// Building the Rust original (reference/) with cargo: for `compare`, which
// runs it beside the demo, and for the benchmark, whose Rust baseline it holds.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PACKAGE_ROOT } from '../internal/paths';

/** A tool the comparison needs is missing or not allowed to run. */
export class MissingToolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingToolError';
  }
}

const REFERENCE = path.join(PACKAGE_ROOT, 'reference');
/** Where Debian's librust-libc-dev puts the `libc` crate. */
const DEBIAN_REGISTRY = '/usr/share/cargo/registry';

/** Cargo's flags: offline from Debian's registry where librust-libc-dev is installed. */
function cargoSource(): string[] {
  const debian =
    fs.existsSync(DEBIAN_REGISTRY) && fs.readdirSync(DEBIAN_REGISTRY).some((d) => d.startsWith('libc-0.2'));
  if (!debian) return [];
  return [
    '--offline',
    '--config',
    'source.crates-io.replace-with="debian"',
    '--config',
    `source.debian.directory="${DEBIAN_REGISTRY}"`,
  ];
}

/**
 * Where cargo builds reference/: the user's cache (XDG Base Directory), not
 * the package, which in a consumer's node_modules would grow 2 MB to 8 MB.
 */
export function referenceTargetDir(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'bidirectional-ipc', 'reference-target');
}

/** Builds reference/ (cargo skips the work when nothing changed); returns the tutorial program's
 * path. The benchmark's Rust baseline, `bench`, is built beside it. */
export function buildReference(): string {
  const targetDir = referenceTargetDir();
  const build = spawnSync(
    'cargo',
    ['build', '--release', '--quiet', '--manifest-path', path.join(REFERENCE, 'Cargo.toml'), ...cargoSource()],
    { encoding: 'utf8', env: { ...process.env, CARGO_TARGET_DIR: targetDir } },
  );
  if (build.error || build.status !== 0) {
    throw new MissingToolError(
      `building the Rust original failed:\n${build.stderr || build.error?.message}\n` +
        `(offline builds need Debian's librust-libc-dev; elsewhere cargo fetches libc from crates.io)`,
    );
  }
  return path.join(targetDir, 'release', 'bidirectional_ipc');
}

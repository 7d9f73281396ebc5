// Where the package's files are, found from where this module runs: the same
// code serves the repository's build and an installed package.
import * as fs from 'node:fs';
import * as path from 'node:path';

function findRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`bidirectional-ipc: package.json not found above ${__dirname}`);
  }
}

/** The package's root directory: the nearest one above this module with a package.json. */
export const PACKAGE_ROOT: string = findRoot();

/** The `bidirectional-ipc` command, compiled beside this module. */
export const CLI: string = path.join(__dirname, '..', 'cli.js');

// The addons compiled for another Node line: the core's calls work (it uses
// Node-API only), fork() refuses the engine with a clear error instead of
// corrupting the running Node. .ci/run builds both for each supported line
// and points BIDIRECTIONAL_IPC_OTHER_BUILD at the build directory of a line
// other than this one.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { it } from 'node:test';

const other = process.env.BIDIRECTIONAL_IPC_OTHER_BUILD;
const skip =
  other || process.env.CI === 'true'
    ? false
    : 'needs BIDIRECTIONAL_IPC_OTHER_BUILD: the addons built for another Node line (.ci/run sets it)';

it(
  'addons built for another Node: pipe/write/read work, fork() throws ERR_ADDON_BUILT_FOR_OTHER_NODE',
  { skip },
  () => {
    assert.ok(other, 'BIDIRECTIONAL_IPC_OTHER_BUILD is not set');
    const script = `
    const ipc = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'index.js'))});
    const [r, w] = ipc.pipe();
    ipc.write(w, 'ping');
    const buf = Buffer.alloc(8);
    const n = ipc.read(r, buf);
    let code = 'forked';
    try { if (ipc.fork() === 0) ipc._exit(0); } catch (error) { code = error.code + ': ' + error.message; }
    console.log(JSON.stringify({ read: buf.subarray(0, n).toString(), code }));`;
    const run = spawnSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { ...process.env, BIDIRECTIONAL_IPC_BUILD: other },
      timeout: 30_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const { read, code } = JSON.parse(run.stdout);
    assert.equal(read, 'ping');
    assert.match(
      code,
      /^ERR_ADDON_BUILT_FOR_OTHER_NODE: fork\(\) refused: the fork engine was compiled for Node \d+\.\d+\.\d+ \(ABI \d+, libuv [\d.]+\) and this is Node /,
    );
    assert.match(code, new RegExp(`this is Node ${process.versions.node.replace(/\./g, '\\.')} `));
    assert.match(code, /npm rebuild bidirectional-ipc/);
  },
);

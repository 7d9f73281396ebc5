{
  # The benchmark's floor addon (a bare fork of the whole heap), built by
  # `npm run bench` and `npm test`, never by a consumer's install.
  "targets": [
    {
      "target_name": "bench_fork_floor",
      "sources": ["native/fork_floor.cc", "../native/dontfork.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-Wno-restrict"]
    },
    {
      # The package's fork step by step with timestamps (bench/profile.ts).
      "target_name": "bench_fork_phases",
      "sources": ["native/fork_phases.cc", "../native/workers.cc", "../native/child.cc", "../native/child_platform.cc", "../native/dontfork.cc", "../native/errors.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-Wno-restrict"]
    },
    {
      # One read/write call taken apart (bench/profile.ts).
      "target_name": "bench_percall_parts",
      "sources": ["native/percall_parts.cc", "../native/args.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-Wno-restrict"]
    }
  ]
}

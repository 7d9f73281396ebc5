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
      "cflags_cc": ["-std=c++20"]
    }
  ]
}

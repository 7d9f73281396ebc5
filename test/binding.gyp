{
  # Test-only addons, built by `npm test` (pretest), never by a consumer's install.
  "targets": [
    {
      "target_name": "test_signals",
      "sources": ["native/signals.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20", "-Wno-restrict"]
    },
    {
      "target_name": "test_cpu_clock",
      "sources": ["native/cpu_clock.cc"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++20"]
    }
  ]
}

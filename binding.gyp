{
  # The package's addon, and nothing else: this is what a consumer's
  # `npm install` compiles. The benchmark and test helper addons have their own
  # gyp files (bench/binding.gyp, test/binding.gyp), built by those scripts.
  "targets": [
    {
      "target_name": "bidirectional_ipc",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/args.cc",
        "native/syscalls.cc",
        "native/fork.cc",
        "native/workers.cc",
        "native/child.cc",
        "native/child_platform.cc",
        "native/dontfork.cc",
        "native/io.cc",
        "native/socket.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=9", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      # C++20: the headers of Node 24 and later refuse anything older.
      # -Wno-restrict: GCC 12 warns falsely about std::string's inlined
      # memcpy in C++20 mode (GCC bug 105329).
      "cflags_cc": ["-std=c++20", "-Wall", "-Wextra", "-Wno-restrict"],
      "conditions": [
        ["OS!='linux'", {"type": "none"}]
      ]
    }
  ]
}

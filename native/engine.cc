// The fork engine's export table: fork() and what only it needs. Unlike the
// core (addon.cc), this mirrors internals of the Node it is compiled for
// (libuv's private fields, the platform's vtable, abseil), so src/native.ts
// loads it on the first fork() only, after checking the versions below.
#include <napi.h>
#include <node_version.h>
#include <uv.h>

#include <string>
#include <utility>

#include "child.h"
#include "errors.h"
#include "exports.h"
#include "fork.h"
#include "random.h"

using namespace ipc;

// A test build (IPC_FAKE_UV_MINOR) poses as one for another libuv, so that
// the refusal of an unchecked version can be exercised on any Node.
#ifdef IPC_FAKE_UV_MINOR
constexpr int kBuiltUvMinor = IPC_FAKE_UV_MINOR;
#else
constexpr int kBuiltUvMinor = UV_VERSION_MINOR;
#endif

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  MeasureCpuClock();             // its thread: only in programs that fork (fork.cc says why)
  RunFinishedWorkOneByOne(env);  // from here on, a child never runs the rest of a parent's batch
  // What src/fork.ts calls, then (under `internal`) what only a lesson and the tests do.
  constexpr std::pair<const char*, Call> kCalls[] = {
      {"fork", Fork},
      {"childStdioReopened", ChildStdioReopened},
      {"childInheritedWatchedFiles", ChildInheritedWatchedFiles},
      {"setParentDeathSignal", SetParentDeathSignal},  // for the fork server
      {"stdioPendingBytes", StdioPendingBytes},
      // A forked child's own Math.random() (random.cc).
      {"mathRandomLayoutCheck", MathRandomLayoutCheck},
      {"reseedMathRandom", ReseedMathRandom},
      {"setErrorClass", SetErrorClass},
  };
  constexpr std::pair<const char*, Call> kInternalCalls[] = {
      {"bareFork", BareFork},
      {"dontforkRegionCount", DontforkRegionCount},
  };
  for (auto [name, call] : kCalls) ExportCall(exports, name, call);
  Napi::Object internal = Napi::Object::New(env);
  for (auto [name, call] : kInternalCalls) ExportCall(internal, name, call);
  exports.Set("internal", internal);

  // The Node this was compiled for: fork() relies on its internals (native.ts checks).
  Napi::Object built_for = Napi::Object::New(env);
  built_for.Set("node", Napi::String::New(env, NODE_VERSION_STRING));
  built_for.Set("modules", Napi::Number::New(env, NODE_MODULE_VERSION));
  // The headers' libuv version (uv_version_string() would name the running one).
  built_for.Set("uv", Napi::String::New(env, std::to_string(UV_VERSION_MAJOR) + "." +
                                                 std::to_string(kBuiltUvMinor) + "." +
                                                 std::to_string(UV_VERSION_PATCH)));
  exports.Set("builtFor", built_for);
  return exports;
}

NODE_API_MODULE(bidirectional_ipc_fork, Init)

// The core addon's export object, built from exports.h's lists: the system
// calls, the constants their flags and options take and, under `internal`,
// the calls that only the lessons and the tests make. Node-API and libuv's
// public API only, so that one build serves every supported Node line;
// fork() and what mirrors Node's internals are the fork engine's (engine.cc).
#include <napi.h>

#include <string>

#include "checked_uv.h"
#include "exports.h"

using namespace ipc;

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ExportCalls(exports, {IPC_CORE_CALLS(IPC_NAMED_CALL)});
  Napi::Object internal = Napi::Object::New(env);
  ExportCalls(internal, {IPC_CORE_INTERNAL_CALLS(IPC_NAMED_CALL)});
  exports.Set("internal", internal);
  Napi::Object constants = Napi::Object::New(env);
  ExportConstants(constants, {IPC_CORE_CONSTANTS(IPC_NAMED_CONSTANT)});
  exports.Set("constants", constants);

  // Read before the fork engine is loaded: it must not be loaded into a Node
  // whose libuv is outside this range (src/native.ts).
  Napi::Object checked_uv = Napi::Object::New(env);
  checked_uv.Set("first", Napi::String::New(env, "1." + std::to_string(kCheckedUvMinorFirst)));
  checked_uv.Set("last", Napi::String::New(env, "1." + std::to_string(kCheckedUvMinorLast)));
  exports.Set("checkedUv", checked_uv);
  return exports;
}

NODE_API_MODULE(bidirectional_ipc_core, Init)

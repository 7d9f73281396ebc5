// The benchmark's profile of one read/write call, not part of the package:
// the pieces of native/syscalls.cc's Read taken apart, so that
// bench/profile.ts can time each (the Node-API crossing with and without
// node-addon-api, the argument checks, the syscall).
//
// Man pages: read(2).
#include <napi.h>
#include <unistd.h>

#include "../../native/args.h"

namespace {

// Raw Node-API, no arguments read: the bare crossing.
napi_value RawNoop(napi_env, napi_callback_info) {
  return nullptr;
}

// node-addon-api, no arguments read.
Napi::Value AddonApiNoop(const Napi::CallbackInfo& info) {
  return info.Env().Undefined();
}

// node-addon-api, Read's argument checks and result, no syscall.
Napi::Value ArgsOnly(const Napi::CallbackInfo& info) {
  int fd = ipc::IntArg(info, 0, "fd");
  size_t size;
  uint8_t* data = ipc::BytesArg(info, 1, "buffer", &size);
  int32_t offset = ipc::IntArg(info, 2, "offset");
  int32_t length = ipc::IntArg(info, 3, "length");
  ipc::CheckRange(info.Env(), offset, length, size);
  return Napi::Number::New(info.Env(),
                           static_cast<double>(fd + (data != nullptr) + offset + length));
}

// Raw Node-API, one getpid(2): a syscall with no argument.
napi_value RawGetpid(napi_env env, napi_callback_info) {
  napi_value result;
  napi_create_int32(env, getpid(), &result);
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  napi_value fn;
  napi_create_function(env, "rawNoop", NAPI_AUTO_LENGTH, RawNoop, nullptr, &fn);
  exports.Set("rawNoop", fn);
  napi_create_function(env, "rawGetpid", NAPI_AUTO_LENGTH, RawGetpid, nullptr, &fn);
  exports.Set("rawGetpid", fn);
  exports.Set("addonApiNoop", Napi::Function::New(env, AddonApiNoop, "addonApiNoop"));
  exports.Set("argsOnly", Napi::Function::New(env, ArgsOnly, "argsOnly"));
  return exports;
}

}  // namespace

NODE_API_MODULE(bench_percall_parts, Init)

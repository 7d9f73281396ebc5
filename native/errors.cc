#include "errors.h"

#include <uv.h>

#include <cctype>
#include <cstring>
#include <string>

namespace ipc {

// The class errno errors are made of (SyscallError, set by the TypeScript
// layer when it loads); plain Error until then. Kept per environment: the main
// thread and each Worker that loads the addon have their own class.
Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsFunction()) {
    throw Napi::TypeError::New(info.Env(), "errorClass must be a function");
  }
  info.Env().SetInstanceData<Napi::FunctionReference>(
      new Napi::FunctionReference(Napi::Persistent(info[0].As<Napi::Function>())));
  return info.Env().Undefined();
}

Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall) {
  // libuv numbers errors as -errno on Unix and owns the short names and the
  // lower-case descriptions that Node's own errors use.
  // libuv has no name for a few errno values (ECHILD among them); glibc has.
  bool libuv_knows = std::strncmp(uv_err_name(-err), "Unknown", 7) != 0;
  const char* name = libuv_knows ? uv_err_name(-err) : strerrorname_np(err);
  std::string code = name != nullptr ? name : "E" + std::to_string(err);
  std::string description = libuv_knows ? uv_strerror(-err) : strerror(err);
  description[0] = std::tolower(static_cast<unsigned char>(description[0]));
  std::string message = code + ": " + description + ", " + syscall;
  Napi::FunctionReference* error_class = env.GetInstanceData<Napi::FunctionReference>();
  if (error_class != nullptr) {
    // SyscallError(message, code, errno, syscall): the class owns its fields.
    return Napi::Error(
        env, error_class->New({Napi::String::New(env, message), Napi::String::New(env, code),
                               Napi::Number::New(env, -err), Napi::String::New(env, syscall)}));
  }
  Napi::Error error =
      Napi::Error::New(env, message);  // before setErrorClass (never, in the package)
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("code", Napi::String::New(env, code));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  return error;
}

}  // namespace ipc

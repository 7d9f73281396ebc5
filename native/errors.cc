#include "errors.h"

#include <uv.h>

#include <cctype>
#include <cmath>
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

static double NumberArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  double value;
  // One N-API call: it fails with napi_number_expected for anything but a number.
  if (i >= info.Length() || napi_get_value_double(info.Env(), info[i], &value) != napi_ok) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a number");
  }
  if (!std::isfinite(value) || std::trunc(value) != value || value < INT32_MIN ||
      value > INT32_MAX) {
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be a 32-bit integer");
  }
  return value;
}

int32_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  double value = NumberArg(info, i, name);
  if (value < 0) {
    throw Napi::RangeError::New(info.Env(), std::string(name) + " must be >= 0");
  }
  return static_cast<int32_t>(value);
}

int32_t SignedIntArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return static_cast<int32_t>(NumberArg(info, i, name));
}

uint8_t* BytesArg(const Napi::CallbackInfo& info, size_t i, const char* name, size_t* length) {
  bool is_typed_array = false;
  napi_typedarray_type type;
  void* data = nullptr;
  // napi_get_typedarray_info once, asking for no ArrayBuffer handle: this is
  // on the path of every read and write.
  if (i >= info.Length() || napi_is_typedarray(info.Env(), info[i], &is_typed_array) != napi_ok ||
      !is_typed_array ||
      napi_get_typedarray_info(info.Env(), info[i], &type, length, &data, nullptr, nullptr) !=
          napi_ok ||
      type != napi_uint8_array) {
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be a Uint8Array");
  }
  return static_cast<uint8_t*>(data);  // null, with length 0, for a detached buffer
}

void CheckRange(Napi::Env env, double offset, double length, size_t size) {
  if (offset < 0 || length < 0 || offset + length > static_cast<double>(size)) {
    throw Napi::RangeError::New(env, "offset and length must lie within the buffer");
  }
}

}  // namespace ipc

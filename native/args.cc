#include "args.h"

#include <cmath>
#include <string>

namespace ipc {

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

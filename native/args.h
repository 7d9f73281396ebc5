// Argument checks shared by the native calls. The TypeScript layer validates
// arguments first and throws Node's ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE;
// these only make sure a direct call into the addon can never crash the
// process: a wrong argument is a TypeError or RangeError naming it.
#pragma once

#include <napi.h>

#include <cstdint>

namespace ipc {

// Argument i as a non-negative int32 (a file descriptor, a pid, flags).
int32_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* name);

// Argument i as an integer that may be negative (pid for waitpid, exit code).
int32_t SignedIntArg(const Napi::CallbackInfo& info, size_t i, const char* name);

// Argument i as a Uint8Array; returns its bytes and length.
uint8_t* BytesArg(const Napi::CallbackInfo& info, size_t i, const char* name, size_t* length);

// Checks that [offset, offset + length) lies within a buffer of `size` bytes.
void CheckRange(Napi::Env env, double offset, double length, size_t size);

}  // namespace ipc

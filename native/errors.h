// Errors and argument checks shared by every native call.
//
// A failed system call becomes an Error shaped like the ones Node's fs module
// throws: message "EBADF: bad file descriptor, read", and the properties
// code ('EBADF'), errno (-9, libuv's negative numbering) and syscall ('read').
// The TypeScript layer validates arguments first and throws Node's
// ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE; the checks here only make sure a
// direct call into the addon can never crash the process.
#pragma once

#include <napi.h>

#include <cstdint>

namespace ipc {

// setErrorClass(SyscallError): the class that errno errors are instances of.
Napi::Value SetErrorClass(const Napi::CallbackInfo& info);

// Builds the Node-style Error for errno value `err` (positive, as in errno.h).
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall);

// Argument i as a non-negative int32 (a file descriptor, a pid, flags).
int32_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* name);

// Argument i as an integer that may be negative (pid for waitpid, exit code).
int32_t SignedIntArg(const Napi::CallbackInfo& info, size_t i, const char* name);

// Argument i as a Uint8Array; returns its bytes and length.
uint8_t* BytesArg(const Napi::CallbackInfo& info, size_t i, const char* name, size_t* length);

// Checks that [offset, offset + length) lies within a buffer of `size` bytes.
void CheckRange(Napi::Env env, double offset, double length, size_t size);

}  // namespace ipc

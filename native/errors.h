// errno -> Error, for every native call (argument checks: args.h).
//
// A failed system call becomes an Error shaped like the ones Node's fs module
// throws: message "EBADF: bad file descriptor, read", and the properties
// code ('EBADF'), errno (-9, libuv's negative numbering) and syscall ('read').
#pragma once

#include <napi.h>

#include <string>

namespace ipc {

// Builds the Node-style Error for errno value `err` (positive, as in errno.h).
Napi::Error ErrnoError(Napi::Env env, int err, const char* syscall);

// An Error with one of the package's own codes (src/errors.ts, ERROR_CODES).
Napi::Error CodedError(Napi::Env env, const char* code, const std::string& message);

}  // namespace ipc

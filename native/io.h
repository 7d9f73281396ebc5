// Event-loop helpers for src/io/: a child's exit watched through a pidfd, the
// check that keeps us off child_process's children, and the duplicate of a
// listening socket that OwnedFd.fromServer takes (see io.cc).
#pragma once

#include <napi.h>

namespace ipc {

Napi::Value WatchPidExit(const Napi::CallbackInfo& info);
Napi::Value ChildProcessOwns(const Napi::CallbackInfo& info);
Napi::Value DuplicateListener(const Napi::CallbackInfo& info);

}  // namespace ipc

// fork(2) for a process that runs Node.js (see fork.cc).
#pragma once

#include <napi.h>

namespace ipc {

// Starts, once per process, the parent's measurement of the CPU clock that
// fork() waits for (fork.cc).
void MeasureCpuClock();

Napi::Value CheckForkable(const Napi::CallbackInfo& info);
Napi::Value Fork(const Napi::CallbackInfo& info);
Napi::Value BareFork(const Napi::CallbackInfo& info);
Napi::Value ChildStdioReopened(const Napi::CallbackInfo& info);
Napi::Value StdioPendingBytes(const Napi::CallbackInfo& info);
Napi::Value DontforkRegionCount(const Napi::CallbackInfo& info);

}  // namespace ipc

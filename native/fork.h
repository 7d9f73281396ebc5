// fork(2) for a process that runs Node.js (see fork.cc).
#pragma once

#include <napi.h>

namespace ipc {

// Starts, once per process, the parent's measurement of the CPU clock that
// fork() waits for (fork.cc).
void MeasureCpuClock();

}  // namespace ipc

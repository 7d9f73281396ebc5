// The syscall wrappers exported by the addon (see syscalls.cc).
#pragma once

#include <napi.h>

namespace ipc {

Napi::Value Pipe(const Napi::CallbackInfo& info);
Napi::Value Read(const Napi::CallbackInfo& info);
Napi::Value Write(const Napi::CallbackInfo& info);
Napi::Value Close(const Napi::CallbackInfo& info);
Napi::Value Waitpid(const Napi::CallbackInfo& info);
Napi::Value Exit(const Napi::CallbackInfo& info);
Napi::Value Getpid(const Napi::CallbackInfo& info);
Napi::Value Getppid(const Napi::CallbackInfo& info);
Napi::Value Sleep(const Napi::CallbackInfo& info);
Napi::Value Dup(const Napi::CallbackInfo& info);
Napi::Value Dup2(const Napi::CallbackInfo& info);
Napi::Value Execvp(const Napi::CallbackInfo& info);
Napi::Value Kill(const Napi::CallbackInfo& info);
Napi::Value Poll(const Napi::CallbackInfo& info);
Napi::Value Fcntl(const Napi::CallbackInfo& info);
Napi::Value BytesQueued(const Napi::CallbackInfo& info);
Napi::Value LessonBlockSignal(const Napi::CallbackInfo& info);
Napi::Value SetParentDeathSignal(const Napi::CallbackInfo& info);
Napi::Value PidfdOpen(const Napi::CallbackInfo& info);
Napi::Value LessonSetSigchld(const Napi::CallbackInfo& info);
Napi::Value LessonBecomeSubreaper(const Napi::CallbackInfo& info);

// pidfd_open(pid, 0): a descriptor (close-on-exec) that polls readable once
// the process has ended; -1 with errno set. For PidfdOpen and io.cc's watch.
int OpenPidfd(pid_t pid);

}  // namespace ipc

// What each addon exports, in one list per export object: X(the name
// JavaScript calls it by, the C++ function). The lists declare the functions
// too, so a call is its definition in its .cc file plus one line here.
// src/calls.ts is the same description for TypeScript (its types, its
// tracing, the CLI's --trace); test/calls.test.ts holds the two together.
#pragma once

#include <fcntl.h>
#include <napi.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <initializer_list>

// The core addon (addon.cc): Node-API and libuv's public API only.
#define IPC_CORE_CALLS(X)                                       \
  X(pipe, Pipe)                                                 \
  X(read, Read)                                                 \
  X(write, Write)                                               \
  X(close, Close)                                               \
  X(waitpid, Waitpid)                                           \
  X(_exit, Exit)                                                \
  X(getpid, Getpid)                                             \
  X(getppid, Getppid)                                           \
  X(sleep, Sleep)                                               \
  X(dup, Dup)                                                   \
  X(dup2, Dup2)                                                 \
  X(execvp, Execvp)                                             \
  X(kill, Kill)                                                 \
  X(poll, Poll)                                                 \
  X(fcntl, Fcntl)                                               \
  X(bytesQueued, BytesQueued)                                   \
  X(mkfifo, Mkfifo)                                             \
  X(setParentDeathSignal, SetParentDeathSignal)                 \
  X(pidfdOpen, PidfdOpen)                                       \
  X(setErrorClass, SetErrorClass)                               \
  /* Unix-domain sockets that carry descriptors (socket.cc). */ \
  X(socketpair, Socketpair)                                     \
  X(sendmsg, Sendmsg)                                           \
  X(recvmsg, Recvmsg)                                           \
  X(shutdown, Shutdown)                                         \
  /* The event loop's helpers for src/io/ (io.cc). */           \
  X(watchPidExit, WatchPidExit)                                 \
  X(childProcessOwns, ChildProcessOwns)                         \
  X(duplicateListener, DuplicateListener)

// The core's `internal` object: what only the lessons and the tests call.
#define IPC_CORE_INTERNAL_CALLS(X)        \
  X(lessonBlockSignal, LessonBlockSignal) \
  X(lessonSetSigchld, LessonSetSigchld)   \
  X(lessonBecomeSubreaper, LessonBecomeSubreaper)

// The core's `constants` object: the flags and options the calls take, by
// the names of the C headers included above.
#define IPC_CORE_CONSTANTS(X) \
  X(O_CLOEXEC)                \
  X(O_NONBLOCK)               \
  X(WNOHANG)                  \
  X(WUNTRACED)                \
  X(WCONTINUED)               \
  X(F_GETFL)                  \
  X(F_SETFL)                  \
  X(F_GETFD)                  \
  X(F_SETFD)                  \
  X(F_GETPIPE_SZ)             \
  X(F_SETPIPE_SZ)             \
  X(FD_CLOEXEC)               \
  X(POLLIN)                   \
  X(POLLOUT)                  \
  X(POLLERR)                  \
  X(POLLHUP)                  \
  X(POLLNVAL)                 \
  X(SOCK_STREAM)              \
  X(SOCK_SEQPACKET)           \
  X(SOCK_CLOEXEC)             \
  X(SOCK_NONBLOCK)            \
  X(MSG_DONTWAIT)             \
  X(MSG_NOSIGNAL)             \
  X(SHUT_RD)                  \
  X(SHUT_WR)                  \
  X(SHUT_RDWR)

// The fork engine (engine.cc), loaded by the first fork(): what src/fork.ts calls.
#define IPC_ENGINE_CALLS(X)                                 \
  X(checkForkable, CheckForkable)                           \
  X(fork, Fork)                                             \
  X(childStdioReopened, ChildStdioReopened)                 \
  X(childInheritedWatchedFiles, ChildInheritedWatchedFiles) \
  X(stdioPendingBytes, StdioPendingBytes)                   \
  /* A forked child's own Math.random() (random.cc). */     \
  X(mathRandomLayoutCheck, MathRandomLayoutCheck)           \
  X(reseedMathRandom, ReseedMathRandom)                     \
  X(setErrorClass, SetErrorClass)

// The engine's `internal` object: what only a lesson and the tests call.
#define IPC_ENGINE_INTERNAL_CALLS(X) \
  X(bareFork, BareFork)              \
  X(dontforkRegionCount, DontforkRegionCount)

namespace ipc {

using Call = Napi::Value (*)(const Napi::CallbackInfo&);

#define IPC_DECLARE_CALL(name, function) Napi::Value function(const Napi::CallbackInfo& info);
IPC_CORE_CALLS(IPC_DECLARE_CALL)
IPC_CORE_INTERNAL_CALLS(IPC_DECLARE_CALL)
IPC_ENGINE_CALLS(IPC_DECLARE_CALL)
IPC_ENGINE_INTERNAL_CALLS(IPC_DECLARE_CALL)
#undef IPC_DECLARE_CALL

struct NamedCall {
  const char* name;
  Call call;
};
struct NamedConstant {
  const char* name;
  int value;
};

// An entry of the lists above, for ExportCalls / ExportConstants.
#define IPC_NAMED_CALL(name, function) NamedCall{#name, function},
#define IPC_NAMED_CONSTANT(name) NamedConstant{#name, name},

// One function per call, named as JavaScript sees it.
inline void ExportCalls(Napi::Object target, std::initializer_list<NamedCall> calls) {
  for (const NamedCall& entry : calls) {
    target.Set(entry.name, Napi::Function::New(target.Env(), entry.call, entry.name));
  }
}

inline void ExportConstants(Napi::Object target, std::initializer_list<NamedConstant> constants) {
  for (const NamedConstant& entry : constants) {
    target.Set(entry.name, Napi::Number::New(target.Env(), entry.value));
  }
}

}  // namespace ipc

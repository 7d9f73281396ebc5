// The addon's export table: one entry per system call, plus the constants
// that their flags and options take.
#include <fcntl.h>
#include <napi.h>
#include <node_version.h>
#include <poll.h>
#include <sys/wait.h>
#include <uv.h>

#include <string>

#include "errors.h"
#include "fork.h"
#include "io.h"
#include "syscalls.h"

using namespace ipc;

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("fork", Napi::Function::New(env, Fork, "fork"));
  exports.Set("read", Napi::Function::New(env, Read, "read"));
  exports.Set("write", Napi::Function::New(env, Write, "write"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("waitpid", Napi::Function::New(env, Waitpid, "waitpid"));
  exports.Set("_exit", Napi::Function::New(env, Exit, "_exit"));
  exports.Set("getpid", Napi::Function::New(env, Getpid, "getpid"));
  exports.Set("getppid", Napi::Function::New(env, Getppid, "getppid"));
  exports.Set("sleep", Napi::Function::New(env, Sleep, "sleep"));
  exports.Set("dup", Napi::Function::New(env, Dup, "dup"));
  exports.Set("dup2", Napi::Function::New(env, Dup2, "dup2"));
  exports.Set("execvp", Napi::Function::New(env, Execvp, "execvp"));
  exports.Set("kill", Napi::Function::New(env, Kill, "kill"));
  exports.Set("poll", Napi::Function::New(env, Poll, "poll"));
  exports.Set("fcntl", Napi::Function::New(env, Fcntl, "fcntl"));
  exports.Set("bytesQueued", Napi::Function::New(env, BytesQueued, "bytesQueued"));
  exports.Set("lessonBlockSignal",
              Napi::Function::New(env, LessonBlockSignal, "lessonBlockSignal"));
  exports.Set("bareFork", Napi::Function::New(env, BareFork, "bareFork"));
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  exports.Set("childStdioReopened",
              Napi::Function::New(env, ChildStdioReopened, "childStdioReopened"));
  exports.Set("stdioPendingBytes",
              Napi::Function::New(env, StdioPendingBytes, "stdioPendingBytes"));
  exports.Set("dontforkRegionCount",
              Napi::Function::New(env, DontforkRegionCount, "dontforkRegionCount"));
  exports.Set("watchPidExit", Napi::Function::New(env, WatchPidExit, "watchPidExit"));
  exports.Set("childProcessOwns", Napi::Function::New(env, ChildProcessOwns, "childProcessOwns"));
  exports.Set("duplicateListener",
              Napi::Function::New(env, DuplicateListener, "duplicateListener"));

  // The Node this was compiled for: fork() relies on its internals (native.ts checks).
  Napi::Object built_for = Napi::Object::New(env);
  built_for.Set("node", Napi::String::New(env, NODE_VERSION_STRING));
  built_for.Set("modules", Napi::Number::New(env, NODE_MODULE_VERSION));
  // The headers' libuv version (uv_version_string() would name the running one).
  built_for.Set("uv", Napi::String::New(env, std::to_string(UV_VERSION_MAJOR) + "." +
                                                 std::to_string(UV_VERSION_MINOR) + "." +
                                                 std::to_string(UV_VERSION_PATCH)));
  exports.Set("builtFor", built_for);

  Napi::Object constants = Napi::Object::New(env);
  constants.Set("O_CLOEXEC", Napi::Number::New(env, O_CLOEXEC));
  constants.Set("O_NONBLOCK", Napi::Number::New(env, O_NONBLOCK));
  constants.Set("WNOHANG", Napi::Number::New(env, WNOHANG));
  constants.Set("WUNTRACED", Napi::Number::New(env, WUNTRACED));
  constants.Set("WCONTINUED", Napi::Number::New(env, WCONTINUED));
  constants.Set("F_GETFL", Napi::Number::New(env, F_GETFL));
  constants.Set("F_SETFL", Napi::Number::New(env, F_SETFL));
  constants.Set("F_GETFD", Napi::Number::New(env, F_GETFD));
  constants.Set("F_SETFD", Napi::Number::New(env, F_SETFD));
  constants.Set("F_GETPIPE_SZ", Napi::Number::New(env, F_GETPIPE_SZ));
  constants.Set("F_SETPIPE_SZ", Napi::Number::New(env, F_SETPIPE_SZ));
  constants.Set("FD_CLOEXEC", Napi::Number::New(env, FD_CLOEXEC));
  constants.Set("POLLIN", Napi::Number::New(env, POLLIN));
  constants.Set("POLLOUT", Napi::Number::New(env, POLLOUT));
  constants.Set("POLLERR", Napi::Number::New(env, POLLERR));
  constants.Set("POLLHUP", Napi::Number::New(env, POLLHUP));
  constants.Set("POLLNVAL", Napi::Number::New(env, POLLNVAL));
  exports.Set("constants", constants);
  return exports;
}

NODE_API_MODULE(bidirectional_ipc, Init)

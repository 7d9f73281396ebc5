// The addon's export table: one entry per system call, plus the constants
// that their flags and options take; under `internal`, the calls that only the
// lessons and the tests make.
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
#include "socket.h"
#include "syscalls.h"

using namespace ipc;

using Call = Napi::Value (*)(const Napi::CallbackInfo&);

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  MeasureCpuClock();
  // One function per call, named as JavaScript sees it.
  auto export_call = [env](Napi::Object target, const char* name, Call call) {
    target.Set(name, Napi::Function::New(env, call, name));
  };
  export_call(exports, "pipe", Pipe);
  export_call(exports, "fork", Fork);
  export_call(exports, "read", Read);
  export_call(exports, "write", Write);
  export_call(exports, "close", Close);
  export_call(exports, "waitpid", Waitpid);
  export_call(exports, "_exit", Exit);
  export_call(exports, "getpid", Getpid);
  export_call(exports, "getppid", Getppid);
  export_call(exports, "sleep", Sleep);
  export_call(exports, "dup", Dup);
  export_call(exports, "dup2", Dup2);
  export_call(exports, "execvp", Execvp);
  export_call(exports, "kill", Kill);
  export_call(exports, "poll", Poll);
  export_call(exports, "fcntl", Fcntl);
  export_call(exports, "bytesQueued", BytesQueued);
  export_call(exports, "setErrorClass", SetErrorClass);
  export_call(exports, "childStdioReopened", ChildStdioReopened);
  export_call(exports, "stdioPendingBytes", StdioPendingBytes);
  export_call(exports, "watchPidExit", WatchPidExit);
  export_call(exports, "childProcessOwns", ChildProcessOwns);
  export_call(exports, "duplicateListener", DuplicateListener);

  // What only the lessons and the tests call, apart from what the package's
  // own functions need (src/native.ts types the two separately).
  Napi::Object internal = Napi::Object::New(env);
  export_call(internal, "lessonBlockSignal", LessonBlockSignal);
  export_call(internal, "bareFork", BareFork);
  export_call(internal, "dontforkRegionCount", DontforkRegionCount);
  exports.Set("internal", internal);

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
  // Unix-domain sockets that carry descriptors (socket.cc), and their flags.
  export_call(exports, "socketpair", Socketpair);
  export_call(exports, "sendmsg", Sendmsg);
  export_call(exports, "recvmsg", Recvmsg);
  SetSocketConstants(env, constants);
  exports.Set("constants", constants);
  return exports;
}

NODE_API_MODULE(bidirectional_ipc, Init)

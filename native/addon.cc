// The core addon's export table: one entry per system call, plus the
// constants that their flags and options take; under `internal`, the calls
// that only the lessons and the tests make. Node-API and libuv's public API
// only, so that one build serves every supported Node line; fork() and what
// mirrors Node's internals are the fork engine's (engine.cc).
#include <fcntl.h>
#include <napi.h>
#include <poll.h>
#include <sys/wait.h>

#include <string>

#include "checked_uv.h"
#include "errors.h"
#include "exports.h"
#include "io.h"
#include "socket.h"
#include "syscalls.h"

using namespace ipc;

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ExportCall(exports, "pipe", Pipe);
  ExportCall(exports, "read", Read);
  ExportCall(exports, "write", Write);
  ExportCall(exports, "close", Close);
  ExportCall(exports, "waitpid", Waitpid);
  ExportCall(exports, "_exit", Exit);
  ExportCall(exports, "getpid", Getpid);
  ExportCall(exports, "getppid", Getppid);
  ExportCall(exports, "sleep", Sleep);
  ExportCall(exports, "dup", Dup);
  ExportCall(exports, "dup2", Dup2);
  ExportCall(exports, "execvp", Execvp);
  ExportCall(exports, "kill", Kill);
  ExportCall(exports, "poll", Poll);
  ExportCall(exports, "fcntl", Fcntl);
  ExportCall(exports, "bytesQueued", BytesQueued);
  ExportCall(exports, "setErrorClass", SetErrorClass);
  ExportCall(exports, "watchPidExit", WatchPidExit);
  ExportCall(exports, "childProcessOwns", ChildProcessOwns);
  ExportCall(exports, "duplicateListener", DuplicateListener);
  ExportCall(exports, "setParentDeathSignal", SetParentDeathSignal);
  ExportCall(exports, "pidfdOpen", PidfdOpen);

  // What only the lessons and the tests call, apart from what the package's
  // own functions need (src/native.ts types the two separately).
  Napi::Object internal = Napi::Object::New(env);
  ExportCall(internal, "lessonBlockSignal", LessonBlockSignal);
  ExportCall(internal, "lessonSetSigchld", LessonSetSigchld);
  ExportCall(internal, "lessonBecomeSubreaper", LessonBecomeSubreaper);
  exports.Set("internal", internal);

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
  ExportCall(exports, "socketpair", Socketpair);
  ExportCall(exports, "sendmsg", Sendmsg);
  ExportCall(exports, "recvmsg", Recvmsg);
  SetSocketConstants(env, constants);
  exports.Set("constants", constants);

  // Read before the fork engine is loaded: it must not be loaded into a Node
  // whose libuv is outside this range (src/native.ts).
  Napi::Object checked_uv = Napi::Object::New(env);
  checked_uv.Set("first", Napi::String::New(env, "1." + std::to_string(kCheckedUvMinorFirst)));
  checked_uv.Set("last", Napi::String::New(env, "1." + std::to_string(kCheckedUvMinorLast)));
  exports.Set("checkedUv", checked_uv);
  return exports;
}

NODE_API_MODULE(bidirectional_ipc_core, Init)

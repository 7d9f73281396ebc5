// The addon's export table: one entry per system call, plus the constants
// that their flags and options take.
#include <fcntl.h>
#include <napi.h>
#include <sys/wait.h>

#include "errors.h"
#include "fork.h"
#include "io.h"
#include "syscalls.h"

using namespace ipc;

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("pipe",               Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("fork",               Napi::Function::New(env, Fork, "fork"));
  exports.Set("read",               Napi::Function::New(env, Read, "read"));
  exports.Set("write",              Napi::Function::New(env, Write, "write"));
  exports.Set("close",              Napi::Function::New(env, Close, "close"));
  exports.Set("waitpid",            Napi::Function::New(env, Waitpid, "waitpid"));
  exports.Set("_exit",              Napi::Function::New(env, Exit, "_exit"));
  exports.Set("getpid",             Napi::Function::New(env, Getpid, "getpid"));
  exports.Set("getppid",            Napi::Function::New(env, Getppid, "getppid"));
  exports.Set("sleep",              Napi::Function::New(env, Sleep, "sleep"));
  exports.Set("bareFork",           Napi::Function::New(env, BareFork, "bareFork"));
  exports.Set("setErrorClass",      Napi::Function::New(env, SetErrorClass, "setErrorClass"));
  exports.Set("childStdioReopened", Napi::Function::New(env, ChildStdioReopened, "childStdioReopened"));
  exports.Set("stdioPendingBytes",  Napi::Function::New(env, StdioPendingBytes, "stdioPendingBytes"));
  exports.Set("dontforkRegionCount",Napi::Function::New(env, DontforkRegionCount, "dontforkRegionCount"));
  exports.Set("watchPidExit",       Napi::Function::New(env, WatchPidExit, "watchPidExit"));
  exports.Set("childProcessOwns",   Napi::Function::New(env, ChildProcessOwns, "childProcessOwns"));
  exports.Set("duplicateListener",  Napi::Function::New(env, DuplicateListener, "duplicateListener"));

  Napi::Object constants = Napi::Object::New(env);
  constants.Set("O_CLOEXEC",  Napi::Number::New(env, O_CLOEXEC));
  constants.Set("O_NONBLOCK", Napi::Number::New(env, O_NONBLOCK));
  constants.Set("WNOHANG",    Napi::Number::New(env, WNOHANG));
  constants.Set("WUNTRACED",  Napi::Number::New(env, WUNTRACED));
  constants.Set("WCONTINUED", Napi::Number::New(env, WCONTINUED));
  exports.Set("constants", constants);
  return exports;
}

NODE_API_MODULE(bidirectional_ipc, Init)

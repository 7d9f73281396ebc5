// The benchmark's floor for fork, not part of the package: fork(2) of this
// very process with V8's MADV_DONTFORK marks cleared (outside the timing), so
// that the child receives the whole heap as the package's fork gives it; the
// child exits in C at once and the parent reaps it. Nothing else is done.
//
// Man pages: fork(2), madvise(2), waitpid(2).
#include <napi.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../native/dontfork.h"

namespace {

double Now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// forkExitWait(times, wholeHeap): seconds of each fork + _exit + waitpid.
Napi::Value ForkExitWait(const Napi::CallbackInfo& info) {
  int times = info[0].As<Napi::Number>().Int32Value();
  bool whole_heap = info[1].As<Napi::Boolean>().Value();
  int err = 0;
  std::vector<ipc::Region> regions;
  if (whole_heap) {
    regions = ipc::DontforkRegions(&err);
    ipc::Advise(regions, MADV_DOFORK);
  }
  Napi::Array seconds = Napi::Array::New(info.Env(), times);
  for (int i = 0; i < times; i++) {
    double start = Now();
    pid_t pid = fork();
    if (pid == 0) _exit(0);
    waitpid(pid, nullptr, 0);
    seconds.Set(i, Napi::Number::New(info.Env(), Now() - start));
  }
  if (whole_heap) ipc::Advise(regions, MADV_DONTFORK);
  return seconds;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("forkExitWait", Napi::Function::New(env, ForkExitWait, "forkExitWait"));
  return exports;
}

}  // namespace

NODE_API_MODULE(bench_fork_floor, Init)

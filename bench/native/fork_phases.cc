// The benchmark's profile of the package's fork, not part of the package:
// this file compiles native/fork.cc with IPC_FORK_PHASES defined, so that
// ipc::Fork itself runs with a CLOCK_MONOTONIC timestamp after each step. The child writes its own
// timestamps into a shared page; wait4() gives its minor faults (copy-on-write among them).
//
// Man pages: fork(2), madvise(2), wait4(2), getrusage(2), mmap(2), proc(5).
#define IPC_FORK_PHASES
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

#include <map>
#include <string>

#include "../../native/fork.cc"

namespace {

double Now() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// The child's marks, written where the parent can read them after the fork.
struct ChildMarks {
  double forked;   // fork(2) returned in the child
  double advised;  // MADV_DONTFORK restored
  double set_up;   // SetUpChild done, about to return into JS
  double js[4];    // marks the child's JavaScript set with mark(i)
  long minflt_at_exit;
};
ChildMarks* marks = nullptr;

long MinorFaults() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

pid_t parent_pid = 0;
std::map<std::string, double> parent_marks;

}  // namespace

// Called by native/fork.cc's FORK_PHASE marks: the parent keeps its own, the
// child writes its three into the shared page (no allocation there).
void ipc::ForkPhase(const char* name) {
  double t = Now();
  if (getpid() == parent_pid) {
    parent_marks[name] = t;
  } else if (strcmp(name, "forked") == 0) {
    marks->forked = t;
  } else if (strcmp(name, "restored") == 0) {
    marks->advised = t;
  } else if (strcmp(name, "set_up") == 0) {
    marks->set_up = t;
  }
}

namespace {

// phasedFork(keepFds): the package's own Fork (native/fork.cc), with its
// phase marks; in the parent {pid, marks...} in seconds (CLOCK_MONOTONIC) and
// counts, in the child 0.
Napi::Value PhasedFork(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (marks == nullptr) {
    marks = static_cast<ChildMarks*>(mmap(nullptr, sizeof(ChildMarks), PROT_READ | PROT_WRITE,
                                          MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  }
  *marks = {};
  parent_pid = getpid();
  parent_marks.clear();
  long faults_before = MinorFaults();
  double entered = Now();
  Napi::Value pid = ipc::Fork(info);
  if (pid.As<Napi::Number>().Int32Value() == 0) return pid;
  double unparked = Now();
  int err;
  size_t spans = ipc::CachedDontforkRegions(&err).size();
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", pid);
  result.Set("entered", entered);
  for (const char* name : {"flushed", "parked", "listed", "advised", "forked", "restored"}) {
    result.Set(name, parent_marks[name]);
  }
  result.Set("unparked", unparked);
  result.Set("spans", static_cast<double>(spans));
  result.Set("parentFaultsInFork", static_cast<double>(MinorFaults() - faults_before));
  return result;
}

// mark(i): the child's JavaScript records a timestamp in slot i (0..3).
Napi::Value Mark(const Napi::CallbackInfo& info) {
  uint32_t i = info[0].As<Napi::Number>().Uint32Value();
  if (marks != nullptr && i < 4) marks->js[i] = Now();
  if (marks != nullptr && i == 3) marks->minflt_at_exit = MinorFaults();
  return info.Env().Undefined();
}

// reap(pid): waits with wait4(2); {reaped, childMinorFaults, child marks}.
Napi::Value Reap(const Napi::CallbackInfo& info) {
  pid_t pid = info[0].As<Napi::Number>().Int32Value();
  long faults_before = MinorFaults();
  struct rusage usage = {};
  int status = 0;
  while (wait4(pid, &status, 0, &usage) == -1 && errno == EINTR) {
  }
  Napi::Env env = info.Env();
  Napi::Object result = Napi::Object::New(env);
  result.Set("reaped", Now());
  result.Set("status", status);
  result.Set("childFaults", static_cast<double>(usage.ru_minflt));
  result.Set("parentFaultsWhileWaiting", static_cast<double>(MinorFaults() - faults_before));
  result.Set("childForked", marks->forked);
  result.Set("childAdvised", marks->advised);
  result.Set("childSetUp", marks->set_up);
  Napi::Array js = Napi::Array::New(env, 4);
  for (uint32_t i = 0; i < 4; i++) js.Set(i, marks->js[i]);
  result.Set("childJs", js);
  result.Set("childFaultsAtExit", static_cast<double>(marks->minflt_at_exit));
  return result;
}

// smapsSeconds(): one uncached read of the DONTFORK list (the cache-miss cost).
Napi::Value SmapsSeconds(const Napi::CallbackInfo& info) {
  int err;
  double start = Now();
  std::vector<ipc::Region> regions = ipc::DontforkRegions(&err);
  Napi::Object result = Napi::Object::New(info.Env());
  result.Set("seconds", Now() - start);
  result.Set("regions", static_cast<double>(regions.size()));
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("phasedFork", Napi::Function::New(env, PhasedFork, "phasedFork"));
  exports.Set("mark", Napi::Function::New(env, Mark, "mark"));
  exports.Set("reap", Napi::Function::New(env, Reap, "reap"));
  exports.Set("smapsSeconds", Napi::Function::New(env, SmapsSeconds, "smapsSeconds"));
  return exports;
}

}  // namespace

NODE_API_MODULE(bench_fork_phases, Init)

// fork(2) for a process that runs Node.js.
//
// A bare fork() of a Node process gives a child that cannot run JavaScript.
// Around the one fork(2) call this file does what the child needs, and undoes
// in the parent whatever it changed:
//
//  1. Platform worker threads are parked on a gate of ours (workers.cc).
//  2. V8 marks its heap MADV_DONTFORK (the `dc` flag in /proc/self/smaps), so
//     a child would get holes where the heap was. Those regions are switched
//     to MADV_DOFORK for the fork and back to MADV_DONTFORK in both processes.
//     Their list is re-read from smaps only when /proc/self/maps has changed
//     since the last fork (dontfork.cc): smaps walks every page table.
//  3. Every signal is blocked from just before fork(2) until the child has its
//     own loop and signal pipe (child.cc), as libuv does around its own
//     spawn (src/unix/process.c uv_spawn): a signal sent to the child the
//     moment its pid is known waits, then reaches the child's own handlers,
//     instead of running libuv's handler against the pipe it still shares
//     with the parent.
//  4. The loop's wq_mutex is held across fork(2), so that no thread-pool
//     thread is half-way through queueing finished work (src/threadpool.c
//     worker) when the child's copy of that queue is taken.
//  5. In the child, child.cc sets up its loop, inherited handles, stdio and
//     way out, and child_platform.cc gives V8's background tasks threads of
//     the child's own.
//  6. Before all that, fork() waits for the parent's one-time measurement of
//     the CPU clock, started when the addon loads (below).
//
// Man pages: fork(2), madvise(2), proc(5) (smaps, VmFlags), pthread_sigmask(3),
// pthread_atfork(3); libuv: uv_loop_fork, uv_mutex_t.
#include "fork.h"

#include <errno.h>
#include <fcntl.h>
#include <node.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>
#include <uv.h>

#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "abseil.h"
#include "child.h"
#include "child_platform.h"
#include "dontfork.h"
#include "errors.h"
#include "event_loop.h"
#include "workers.h"

// Phase marks for the benchmark's profile (bench/native/fork_phases.cc
// compiles this file with IPC_FORK_PHASES defined and times each step); in
// the package they compile to nothing.
#ifdef IPC_FORK_PHASES
namespace ipc {
void ForkPhase(const char* name);
}
#define FORK_PHASE(name) ForkPhase(name)
#else
#define FORK_PHASE(name) ((void)0)
#endif

// Node 22 and later build V8 on abseil. The first time a thread waits on an
// abseil mutex, abseil reads the CPU's nominal clock rate, which it measures
// once per process on that thread (abseil.h). A child of a parent that has not
// measured yet measures again, on whichever of its threads waits first:
// compare caught a tutorial child's main thread sleeping 1 ms and 2 ms between
// two messages. And a child forked while a parent thread is inside that
// measurement would wait for ever on abseil's once-flag. So the parent
// measures on a thread of its own, started when the addon loads, and fork()
// joins it: every child inherits the result.

namespace ipc {
namespace {

std::thread* cpu_clock_measurement = nullptr;  // joined by the first fork()

std::vector<int> FdListArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  std::vector<int> fds;
  if (info.Length() <= i || info[i].IsUndefined()) return fds;
  if (!info[i].IsArray())
    throw Napi::TypeError::New(info.Env(), std::string(name) + " must be an array");
  Napi::Array list = info[i].As<Napi::Array>();
  for (uint32_t k = 0; k < list.Length(); k++) {
    Napi::Value v = list.Get(k);
    if (!v.IsNumber() || v.As<Napi::Number>().Int32Value() < 0) {
      throw Napi::TypeError::New(info.Env(),
                                 std::string(name) + " must hold descriptors (integers >= 0)");
    }
    fds.push_back(v.As<Napi::Number>().Int32Value());
  }
  return fds;
}

// Both read /proc (the only way to know these mappings), and fail alike without it.
constexpr const char* kProcMissing = "open /proc/self/maps or /proc/self/smaps (is /proc mounted?)";

}  // namespace

void MeasureCpuClock() {
  static std::once_flag started;
  std::call_once(started, [] {
    if (absl::base_internal::NominalCPUFrequency == nullptr) return;
    try {
      cpu_clock_measurement = new std::thread([] { absl::base_internal::NominalCPUFrequency(); });
    } catch (const std::system_error&) {
      // No thread to spare (EAGAIN: RLIMIT_NPROC): loading must not fail for
      // it; each child then measures on its own, as without this.
    }
  });
}

// checkForkable(): throws if this process is in a state fork() refuses, and
// looks up once what the child will need. src/fork.ts calls it before the
// registerAtFork hooks: a refusal must come before anything has acted.
Napi::Value CheckForkable(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (FileRequestsOnIoUring()) {
    Napi::Error error = Napi::Error::New(
        env,
        "fork() cannot be used while libuv runs file-system requests on io_uring "
        "(UV_USE_IO_URING=1, or Node 20.4 to 20.11.0 by default): a child forked inside one "
        "of their callbacks would go on reading the parent's completion ring. Start the "
        "program without UV_USE_IO_URING, on Node 20.11.1 or later (libuv then uses its "
        "thread pool, which fork() supports).");
    error.Set("code", "ERR_FORK_IO_URING");
    throw error;
  }
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  node::Environment* node_env = node::GetCurrentEnvironment(isolate->GetCurrentContext());
  if (int err = PrepareChildPlatform(node::GetMultiIsolatePlatform(node_env)))
    throw ErrnoError(env, err, kProcMissing);
  PrepareChildThreadPool();
  return env.Undefined();
}

// fork(keepFds = []): the child's pid in the parent, 0 in the child. The
// handles on keepFds stay live in the child, every other inherited I/O handle
// is detached there; when the child's loop runs dry it ends as Node would
// (child.cc).
Napi::Value Fork(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<int> keep_fds = FdListArg(info, 0, "keepFds");
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  node::Environment* node_env = node::GetCurrentEnvironment(isolate->GetCurrentContext());
  node::MultiIsolatePlatform* platform = node::GetMultiIsolatePlatform(node_env);
  uv_loop_t* loop = EventLoop(env);

  if (cpu_clock_measurement != nullptr && cpu_clock_measurement->joinable()) {
    cpu_clock_measurement->join();
  }
  // Done by checkForkable() already, before any hook ran; cached, so cheap here.
  int err = PrepareChildPlatform(platform);
  if (err) throw ErrnoError(env, err, kProcMissing);
  PrepareChildThreadPool();
  fflush(nullptr);  // C stdio buffers would otherwise be written twice
  FORK_PHASE("flushed");
  ParkedWorkers parked(platform);
  FORK_PHASE("parked");
  std::vector<Region> regions = CachedDontforkRegions(&err);
  FORK_PHASE("listed");
  if (err) throw ErrnoError(env, err, kProcMissing);
  // A listening socket of another thread (the inspector's) stays open in the
  // child until SetUpChild replaces it; until then a connection to it could
  // be accepted into its queue even after the parent closed it. fork() then
  // returns in the parent only once the child says it is set up.
  int set_up[2] = {-1, -1};
  if (HasOtherLoopsListeners(loop, keep_fds) && pipe2(set_up, O_CLOEXEC) == -1) {
    throw ErrnoError(env, errno, "pipe2");
  }
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  uv_mutex_lock(&loop->wq_mutex);
  Advise(regions, MADV_DOFORK);
  FORK_PHASE("advised");
  pid_t pid = fork();
  int fork_errno = errno;
  FORK_PHASE("forked");
  Advise(regions, MADV_DONTFORK);
  FORK_PHASE("restored");

  if (pid == 0) {
    parked.Abandon();
    SetUpChild(env, node_env, platform, loop, keep_fds);
    if (set_up[1] != -1) {
      close(set_up[0]);
      close(set_up[1]);  // end of file: the parent goes on
    }
    FORK_PHASE("set_up");
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return Napi::Number::New(env, 0);
  }
  uv_mutex_unlock(&loop->wq_mutex);
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  if (set_up[1] != -1) {
    close(set_up[1]);
    char byte;
    // Returns at end of file: the child has closed its end, or died.
    while (pid != -1 && read(set_up[0], &byte, 1) == -1 && errno == EINTR) {
    }
    close(set_up[0]);
  }
  if (pid == -1) throw ErrnoError(env, fork_errno, "fork");
  return Napi::Number::New(env, pid);
}

// bareFork(): fork(2) and nothing else, for the raw-fork lesson: the child
// returns into JavaScript with none of the preparation above, and crashes.
Napi::Value BareFork(const Napi::CallbackInfo& info) {
  pid_t pid = fork();
  if (pid == -1) throw ErrnoError(info.Env(), errno, "fork");
  return Napi::Number::New(info.Env(), pid);
}

// stdioPendingBytes(moreFds = []): bytes that Node has queued for stdout/stderr
// (fd 1 and 2) and for the streams on `moreFds`, not yet taken by the kernel.
// Read from libuv, so that asking does not create process.stdout (which would
// make a pipe on fd 1 non-blocking for every process that shares it).
Napi::Value StdioPendingBytes(const Napi::CallbackInfo& info) {
  std::vector<int> fds = FdListArg(info, 0, "moreFds");
  fds.push_back(1);
  fds.push_back(2);
  uv_loop_t* loop = EventLoop(info.Env());
  return Napi::Number::New(info.Env(), static_cast<double>(QueuedWriteBytes(loop, fds)));
}

// How many mappings are now marked MADV_DONTFORK (for tests and lessons).
Napi::Value DontforkRegionCount(const Napi::CallbackInfo& info) {
  int err;
  std::vector<Region> regions = DontforkRegions(&err);
  if (err) throw ErrnoError(info.Env(), err, "open /proc/self/smaps");
  return Napi::Number::New(info.Env(), static_cast<double>(regions.size()));
}

}  // namespace ipc

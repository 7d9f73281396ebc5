// fork(2) for a process that runs Node.js.
//
// A bare fork() of a Node process gives a child that cannot run JavaScript.
// Around the one fork(2) call this file does what the child needs, and undoes
// in the parent whatever it changed:
//
//  1. Platform worker threads are parked on a gate of ours. Only the calling
//     thread exists in the child; a worker that sat in Node's task queue
//     condition variable at the fork would leave it in a state where the
//     child's next pthread_cond_signal() blocks for ever.
//  2. V8 marks its heap MADV_DONTFORK (the `dc` flag in /proc/self/smaps), so
//     a child would get holes where the heap was. Those regions are switched
//     to MADV_DOFORK for the fork and back to MADV_DONTFORK in both processes.
//     Their list is re-read from smaps only when /proc/self/maps has changed
//     since the last fork (dontfork.cc): smaps walks every page table.
//  3. In the child: uv_loop_fork() gives it its own epoll and wake-up fds;
//     stdout/stderr pipes get a file description of their own so that the
//     child can write them blocking without changing the parent's; process exit
//     goes straight to _exit(2), because Node's teardown needs the threads the
//     child does not have; and a prepare handle notices when the child's loop
//     has nothing left, which is where Node would begin that teardown.
//
// Man pages: fork(2), madvise(2), proc(5) (smaps, VmFlags), pthread_atfork(3),
// open(2), dup2(2); libuv: uv_loop_fork, uv_prepare_t.
#include "fork.h"

#include <errno.h>
#include <fcntl.h>
#include <node.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dontfork.h"
#include "errors.h"

namespace ipc {
namespace {

// ---- 1. Parking the platform's worker threads --------------------------------

struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  int arrived = 0;
  bool open = false;
};

class ParkTask : public v8::Task {
 public:
  explicit ParkTask(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  void Run() override {
    std::unique_lock<std::mutex> lock(gate_->mutex);
    if (gate_->open) return;  // arrived after the fork: nothing to wait for
    gate_->arrived++;
    gate_->changed.notify_all();
    gate_->changed.wait(lock, [this] { return gate_->open; });
  }

 private:
  std::shared_ptr<Gate> gate_;
};

// Holds every worker of the platform on a gate until Open() (parent) or
// Abandon() (child, where the workers no longer exist).
class ParkedWorkers {
 public:
  explicit ParkedWorkers(node::MultiIsolatePlatform* platform)
      : gate_(std::make_shared<Gate>()) {
    // NumberOfWorkerThreads() counts the delayed-task scheduler thread too,
    // which never runs tasks.
    int workers = platform->NumberOfWorkerThreads() - 1;
    for (int i = 0; i < workers; i++) {
      platform->CallOnWorkerThread(std::make_unique<ParkTask>(gate_));
    }
    // Bounded: a worker busy with a task that waits for the main thread
    // would never arrive. The fork then goes ahead without it.
    std::unique_lock<std::mutex> lock(gate_->mutex);
    gate_->changed.wait_for(lock, std::chrono::seconds(1),
                            [&] { return gate_->arrived >= workers; });
  }
  ~ParkedWorkers() {
    if (!gate_) return;
    std::lock_guard<std::mutex> lock(gate_->mutex);
    gate_->open = true;
    gate_->changed.notify_all();
  }
  // In the child the waiters of the gate's condition variable are gone;
  // signalling or destroying it could block, so it is left as it is.
  void Abandon() { new std::shared_ptr<Gate>(std::move(gate_)); }

 private:
  std::shared_ptr<Gate> gate_;
};

// ---- 2. V8's MADV_DONTFORK regions: see dontfork.cc ----------------------------

// ---- 3. The child's own loop, stdio and way out ---------------------------------

struct Child {
  napi_env env;
  v8::Isolate* isolate;
  node::MultiIsolatePlatform* platform;
  Napi::FunctionReference on_idle;
  Napi::AsyncContext* async_context;
  uv_prepare_t idle_check;
  unsigned int inherited_reqs;  // in flight at the fork; some never finish here
};
Child* child = nullptr;
std::vector<int> reopened_stdio;

bool QueueEmpty(const struct uv__queue* q) { return q->next == q; }

// Whether the loop has nothing left but our own prepare handle, i.e. Node
// would now leave uv_run() and begin its teardown.
bool LoopIdle(uv_loop_t* loop) {
  return loop->active_handles <= 1 &&
         loop->active_reqs.count <= child->inherited_reqs &&
         loop->closing_handles == nullptr && QueueEmpty(&loop->pending_queue);
}

// Calls the TypeScript side with "beforeExit" or "exit", the way Node would.
void CallOnIdle(const char* phase) {
  Napi::Env env(child->env);
  Napi::HandleScope scope(env);
  try {
    child->on_idle.MakeCallback(env.Global(), {Napi::String::New(env, phase)},
                                *child->async_context);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  }
}

void OnPrepare(uv_prepare_t* handle) {
  uv_loop_t* loop = handle->loop;
  // Requests that were in flight at the fork belong to the parent: work on
  // the thread pool was lost with its threads. Count down as they finish.
  if (loop->active_reqs.count < child->inherited_reqs) {
    child->inherited_reqs = loop->active_reqs.count;
  }
  if (!LoopIdle(loop)) return;
  // What Node's DrainTasks() does before it looks at the loop again, less the
  // wait for worker tasks that can never finish here: V8's foreground tasks
  // (a promise of WebAssembly.instantiate, FinalizationRegistry callbacks).
  // Bounded, because some re-post themselves for as long as a background job
  // they wait for is unfinished, and here it never finishes.
  for (int round = 0; round < 4 && LoopIdle(loop); round++) {
    if (!child->platform->FlushForegroundTasks(child->isolate)) break;
  }
  if (!LoopIdle(loop)) return;
  CallOnIdle("beforeExit");
  if (!LoopIdle(loop)) return;  // a beforeExit listener scheduled more work
  CallOnIdle("exit");           // ends the process
}

// Gives the child a file description of its own for a pipe on `fd`, so that
// making it blocking (and every later write) leaves the parent's alone.
bool ReopenPipe(int fd) {
  struct stat st;
  if (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode)) return false;
  int flags = fcntl(fd, F_GETFL);
  if (flags == -1 || (flags & O_ACCMODE) == O_RDONLY) return false;
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  // O_NONBLOCK: fail with ENXIO rather than wait when no reader is left.
  int copy = open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (copy == -1) return false;
  fcntl(copy, F_SETFL, fcntl(copy, F_GETFL) & ~O_NONBLOCK);
  bool ok = dup2(copy, fd) != -1;
  close(copy);
  return ok;
}

void Die(const char* what, int err) {
  dprintf(2, "bidirectional-ipc: forked child cannot continue: %s: %s\n", what, strerror(err));
  _exit(70);
}

void SetUpChild(napi_env env, node::Environment* node_env, node::MultiIsolatePlatform* platform,
                Napi::Function on_idle) {
  uv_loop_t* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) Die("napi_get_uv_event_loop", EINVAL);
  int r = uv_loop_fork(loop);
  if (r != 0) Die("uv_loop_fork", -r);

  // Async handles are how other threads wake this loop; the threads that
  // owned the inherited ones (worker_threads Workers above all) are gone, so
  // they must not keep the child alive.
  uv_walk(loop, [](uv_handle_t* h, void*) {
    if (h->type == UV_ASYNC && uv_has_ref(h)) uv_unref(h);
  }, nullptr);

  reopened_stdio.clear();
  for (int fd : {1, 2}) {
    if (ReopenPipe(fd)) reopened_stdio.push_back(fd);
  }

  node::SetProcessExitHandler(node_env, [](node::Environment*, int code) {
    fflush(nullptr);
    _exit(code);
  });

  if (child == nullptr) {
    child = new Child();
    child->env = env;
    child->isolate = v8::Isolate::GetCurrent();
    child->platform = platform;
    child->async_context = new Napi::AsyncContext(Napi::Env(env), "bidirectional-ipc:child");
    uv_prepare_init(loop, &child->idle_check);
    uv_prepare_start(&child->idle_check, OnPrepare);
  }
  // A child of a child keeps the prepare handle it inherited.
  child->on_idle = Napi::Persistent(on_idle);
  child->inherited_reqs = loop->active_reqs.count;
}

}  // namespace

// fork(onChildIdle): the child's pid in the parent, 0 in the child.
// onChildIdle("beforeExit" | "exit") is called in the child when its loop runs dry.
Napi::Value Fork(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    throw Napi::TypeError::New(env, "onChildIdle must be a function");
  }
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  node::Environment* node_env = node::GetCurrentEnvironment(isolate->GetCurrentContext());
  node::MultiIsolatePlatform* platform = node::GetMultiIsolatePlatform(node_env);

  fflush(nullptr);  // C stdio buffers would otherwise be written twice
  ParkedWorkers parked(platform);
  int err;
  std::vector<Region> regions = CachedDontforkRegions(&err);
  if (err) throw ErrnoError(env, err, "open");
  Advise(regions, MADV_DOFORK);
  pid_t pid = fork();
  int fork_errno = errno;
  Advise(regions, MADV_DONTFORK);

  if (pid == 0) {
    parked.Abandon();
    SetUpChild(env, node_env, platform, info[0].As<Napi::Function>());
    return Napi::Number::New(env, 0);
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

// The stdio descriptors that the child re-opened, [] in a process that is not a forked child.
Napi::Value ChildStdioReopened(const Napi::CallbackInfo& info) {
  Napi::Array fds = Napi::Array::New(info.Env(), reopened_stdio.size());
  for (size_t i = 0; i < reopened_stdio.size(); i++) {
    fds.Set(i, Napi::Number::New(info.Env(), reopened_stdio[i]));
  }
  return fds;
}

// Bytes that Node has queued for stdout/stderr (fd 1 and 2) and the kernel
// has not taken yet, summed over the loop's stream handles. Read from libuv,
// so that asking does not create process.stdout (which would make a pipe
// on fd 1 non-blocking for every process that shares it).
Napi::Value StdioPendingBytes(const Napi::CallbackInfo& info) {
  uv_loop_t* loop;
  if (napi_get_uv_event_loop(info.Env(), &loop) != napi_ok) return Napi::Number::New(info.Env(), 0);
  size_t pending = 0;
  uv_walk(loop, [](uv_handle_t* h, void* arg) {
    if (h->type != UV_NAMED_PIPE && h->type != UV_TTY && h->type != UV_TCP) return;
    uv_os_fd_t fd;
    if (uv_fileno(h, &fd) != 0 || (fd != 1 && fd != 2)) return;
    *static_cast<size_t*>(arg) += uv_stream_get_write_queue_size(reinterpret_cast<uv_stream_t*>(h));
  }, &pending);
  return Napi::Number::New(info.Env(), static_cast<double>(pending));
}

// How many mappings are now marked MADV_DONTFORK (for tests and lessons).
Napi::Value DontforkRegionCount(const Napi::CallbackInfo& info) {
  int err;
  std::vector<Region> regions = DontforkRegions(&err);
  if (err) throw ErrnoError(info.Env(), err, "open");
  return Napi::Number::New(info.Env(), static_cast<double>(regions.size()));
}

}  // namespace ipc

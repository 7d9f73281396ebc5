// V8's background tasks in a forked child, on threads of the child's own.
//
// fork(2) copies only the calling thread. The platform's worker threads stay
// in the parent (parked on workers.cc's gate at the moment of the fork), and
// the child's copy of their queue, NodePlatform's private task runner, has no
// thread left to run what V8 posts to it. Most of that work can wait for
// ever; NodePlatform::DrainTasks cannot: every event loop, the main thread's
// and each Worker's, calls it when it runs dry, and it blocks until that queue
// has no task outstanding, which in the child is never. So a Worker started
// in a child would never end.
//
// In the child, then, the platform's own entries for posting worker tasks and
// for DrainTasks are pointed at a small pool in this file: V8's background
// tasks run on its threads (started when first needed, at most as many as the
// platform had), and DrainTasks waits for the pool instead of the orphaned
// queue. The entries are the vtable slots that the running Node's headers give
// those virtual functions (Itanium C++ ABI 2.3: a pointer to a virtual member
// function holds 1 + the function's byte offset in the vtable); the child
// writes its copy-on-write copy of the vtable, and the parent's is untouched.
// The replacements are free functions taking the object first, which is how
// that ABI passes `this`; the member-pointer types below spell out each
// signature, so a header that changes one fails to compile here.
//
// Man pages: fork(2), mprotect(2), proc(5) (maps), pthread_sigmask(3).
// V8: v8-platform.h, Platform::PostTaskOnWorkerThreadImpl and
// PostDelayedTaskOnWorkerThreadImpl (V8 12 on: Node 22, 24, 26),
// CallOnWorkerThread and CallDelayedOnWorkerThread before (V8 11: Node 20).
// Node: node.h, MultiIsolatePlatform::DrainTasks and FlushForegroundTasks.
#include "child_platform.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>

namespace ipc {

namespace {

using Clock = std::chrono::steady_clock;

// The child's replacement for the platform's worker threads.
class ChildPool {
 public:
  explicit ChildPool(int max_threads) : max_threads_(max_threads < 1 ? 1 : max_threads) {}

  void Post(std::unique_ptr<v8::Task> task) {
    std::lock_guard<std::mutex> lock(mutex_);
    ready_.push_back(std::move(task));
    outstanding_++;
    Wake();
  }

  void PostDelayed(std::unique_ptr<v8::Task> task, double delay_seconds) {
    auto due = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(delay_seconds));
    std::lock_guard<std::mutex> lock(mutex_);
    delayed_.emplace(due, std::move(task));
    Wake();  // a waiting thread recomputes when to wake
  }

  // Returns once no posted task is queued or running (delayed ones not yet
  // due are not counted, as in Node's own queue), with how many tasks the
  // pool has run in all. While the pool has no thread at all (none could be
  // started: pthread_create's EAGAIN under RLIMIT_NPROC), the caller runs the
  // ready tasks itself, as V8 lets a thread that joins a job do: without it a
  // child that could not start a thread waited here for ever at its end.
  uint64_t WaitIdle() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (threads_ == 0 && !ready_.empty()) {
      std::unique_ptr<v8::Task> task = std::move(ready_.front());
      ready_.pop_front();
      lock.unlock();
      task->Run();
      task.reset();
      lock.lock();
      finished_++;
      outstanding_--;
    }
    idle_.wait(lock, [this] { return outstanding_ == 0; });
    return finished_;
  }

 private:
  // Called with mutex_ held.
  void Wake() {
    if (waiting_ > 0) {
      work_.notify_one();
    } else if (threads_ < max_threads_ && StartThread()) {
      threads_++;
    }
  }

  // A thread on a stack of its own: glibc's cache of thread stacks holds the
  // parent's threads' stacks here, and a thread given one of them would be
  // the one that Node's inherited pthread_join of that parent thread reaches.
  // Its signals are blocked: they go to the main thread, as without the pool.
  bool StartThread() {
    void* stack = mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
    if (stack == MAP_FAILED) return false;
    mprotect(stack, static_cast<size_t>(sysconf(_SC_PAGESIZE)), PROT_NONE);  // a guard page
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stack, kStackSize);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    sigset_t all, previous;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &previous);
    pthread_t thread;
    int err = pthread_create(
        &thread, &attr, [](void* self) -> void* { static_cast<ChildPool*>(self)->Run(); }, this);
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    pthread_attr_destroy(&attr);
    if (err != 0) munmap(stack, kStackSize);
    return err == 0;
  }

  // As Node gives its platform's worker threads.
  static constexpr size_t kStackSize = 4 << 20;

  [[noreturn]] void Run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      for (auto now = Clock::now(); !delayed_.empty() && delayed_.begin()->first <= now;) {
        ready_.push_back(std::move(delayed_.begin()->second));
        delayed_.erase(delayed_.begin());
        outstanding_++;
      }
      if (!ready_.empty()) {
        std::unique_ptr<v8::Task> task = std::move(ready_.front());
        ready_.pop_front();
        if (!ready_.empty()) Wake();
        lock.unlock();
        task->Run();
        task.reset();
        lock.lock();
        finished_++;
        if (--outstanding_ == 0) idle_.notify_all();
        continue;
      }
      waiting_++;
      if (delayed_.empty()) {
        work_.wait(lock);
      } else {
        work_.wait_until(lock, delayed_.begin()->first);
      }
      waiting_--;
    }
  }

  std::mutex mutex_;
  std::condition_variable work_;  // a task is ready, or the next due time changed
  std::condition_variable idle_;  // outstanding_ fell to 0
  std::deque<std::unique_ptr<v8::Task>> ready_;
  std::multimap<Clock::time_point, std::unique_ptr<v8::Task>> delayed_;
  int outstanding_ = 0;  // ready or running
  uint64_t finished_ = 0;
  int threads_ = 0;
  int waiting_ = 0;
  const int max_threads_;
};

// This process's pool. A child of a child makes a new one: the threads of the
// inherited one are gone, and a lock of theirs may be held for ever.
ChildPool* pool = nullptr;

#if V8_MAJOR_VERSION >= 12
using PostTaskMethod = void (v8::Platform::*)(v8::TaskPriority, std::unique_ptr<v8::Task>,
                                              const v8::SourceLocation&);
using PostDelayedTaskMethod = void (v8::Platform::*)(v8::TaskPriority, std::unique_ptr<v8::Task>,
                                                     double, const v8::SourceLocation&);

// Names the protected Impl methods; never instantiated.
struct PlatformMethods : v8::Platform {
  static constexpr PostTaskMethod kPostTask = &PlatformMethods::PostTaskOnWorkerThreadImpl;
  static constexpr PostDelayedTaskMethod kPostDelayedTask =
      &PlatformMethods::PostDelayedTaskOnWorkerThreadImpl;
};

void PostTask(v8::Platform*, v8::TaskPriority, std::unique_ptr<v8::Task> task,
              const v8::SourceLocation&) {
  pool->Post(std::move(task));
}

void PostDelayedTask(v8::Platform*, v8::TaskPriority, std::unique_ptr<v8::Task> task, double delay,
                     const v8::SourceLocation&) {
  pool->PostDelayed(std::move(task), delay);
}
#else
using PostTaskMethod = void (v8::Platform::*)(std::unique_ptr<v8::Task>);
using PostDelayedTaskMethod = void (v8::Platform::*)(std::unique_ptr<v8::Task>, double);

struct PlatformMethods : v8::Platform {
  static constexpr PostTaskMethod kPostTask = &v8::Platform::CallOnWorkerThread;
  static constexpr PostDelayedTaskMethod kPostDelayedTask =
      &v8::Platform::CallDelayedOnWorkerThread;
};

void PostTask(v8::Platform*, std::unique_ptr<v8::Task> task) {
  pool->Post(std::move(task));
}

void PostDelayedTask(v8::Platform*, std::unique_ptr<v8::Task> task, double delay) {
  pool->PostDelayed(std::move(task), delay);
}
#endif

using DrainTasksMethod = void (node::MultiIsolatePlatform::*)(v8::Isolate*);
constexpr DrainTasksMethod kDrainTasks = &node::MultiIsolatePlatform::DrainTasks;

// What NodePlatform::DrainTasks does, with the pool for the worker queue.
void DrainTasks(node::MultiIsolatePlatform* platform, v8::Isolate* isolate) {
  do {
    pool->WaitIdle();
  } while (platform->FlushForegroundTasks(isolate));
}

// The vtable slot of a virtual member function, or -1 for anything else.
template <typename Method>
long SlotOf(Method method) {
  struct Representation {
    uintptr_t ptr;
    ptrdiff_t adj;
  };
  static_assert(sizeof(Method) == sizeof(Representation),
                "an Itanium C++ ABI member function pointer");
  Representation rep;
  memcpy(&rep, &method, sizeof rep);
  if ((rep.ptr & 1) == 0 || rep.adj != 0) return -1;
  return static_cast<long>((rep.ptr - 1) / sizeof(void*));
}

// Where the platform's vtable lives, found once in the parent (reading
// /proc/self/maps in every child would cost each one a scan of every mapping).
struct VtableSite {
  void** vtable = nullptr;
  uintptr_t start = 0, end = 0;  // its mapping
  int prot = 0;
};
VtableSite site;

// 0 once *out holds the mapping that contains `address`; else an errno
// (ENOENT when /proc/self/maps has no such mapping).
int FindMapping(uintptr_t address, VtableSite* out) {
  FILE* maps = fopen("/proc/self/maps", "re");
  if (maps == nullptr) return errno;
  char line[512];
  int err = ENOENT;
  while (err != 0 && fgets(line, sizeof line, maps) != nullptr) {
    unsigned long start, end;
    char perms[5];
    if (sscanf(line, "%lx-%lx %4s", &start, &end, perms) != 3) continue;
    if (address < start || address >= end) continue;
    out->start = start;
    out->end = end;
    out->prot = (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0);
    err = 0;
  }
  fclose(maps);
  return err;
}

bool WriteSlot(long slot, void* function) {
  void** entry = site.vtable + slot;
  auto address = reinterpret_cast<uintptr_t>(entry);
  if (slot < 0 || address < site.start || address + sizeof(void*) > site.end) return false;
  uintptr_t page_size = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  void* page = reinterpret_cast<void*>(address & ~(page_size - 1));
  bool read_only = (site.prot & PROT_WRITE) == 0;
  if (read_only && mprotect(page, page_size, site.prot | PROT_WRITE) != 0) return false;
  *entry = function;
  if (read_only) mprotect(page, page_size, site.prot);
  return true;
}

}  // namespace

uint64_t WaitForChildPlatform() {
  return pool->WaitIdle();
}

int PrepareChildPlatform(node::MultiIsolatePlatform* platform) {
  void** vtable = *reinterpret_cast<void***>(platform);
  if (site.vtable == vtable) return 0;
  VtableSite found;
  if (int err = FindMapping(reinterpret_cast<uintptr_t>(vtable), &found)) return err;
  found.vtable = vtable;
  site = found;
  return 0;
}

bool AdoptPlatformInChild(node::MultiIsolatePlatform* platform) {
  if (site.vtable != *reinterpret_cast<void***>(platform)) return false;
  pool = new ChildPool(platform->NumberOfWorkerThreads() - 1);
  return WriteSlot(SlotOf(PlatformMethods::kPostTask), reinterpret_cast<void*>(&PostTask)) &&
         WriteSlot(SlotOf(PlatformMethods::kPostDelayedTask),
                   reinterpret_cast<void*>(&PostDelayedTask)) &&
         WriteSlot(SlotOf(kDrainTasks), reinterpret_cast<void*>(&DrainTasks));
}

}  // namespace ipc

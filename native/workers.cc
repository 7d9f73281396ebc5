// Parking the platform's worker threads around fork(2).
//
// Only the calling thread exists in the child. A worker that sat in Node's
// task-queue condition variable at the fork would leave it in a state where
// the child's next pthread_cond_signal() blocks for ever (glibc's condition
// variables count their waiters), so every worker is first given a task of
// ours that waits on a gate, and the fork happens while they all wait there.
//
// Man pages: fork(2), pthread_cond_wait(3p); Node: MultiIsolatePlatform
// (node.h) CallOnWorkerThread, NumberOfWorkerThreads.
#include "workers.h"

#include <chrono>
#include <condition_variable>
#include <mutex>

#if defined(__SANITIZE_ADDRESS__)
#include <pthread.h>
#include <sanitizer/asan_interface.h>

#include <utility>
#include <vector>
#endif

namespace ipc {

struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  int arrived = 0;
  bool open = false;
#if defined(__SANITIZE_ADDRESS__)
  std::vector<std::pair<void*, size_t>> stacks;  // of the parked threads: see Abandon()
#endif
};

namespace {

// How long the parent waits for the workers to arrive. A worker busy with a
// task that waits for the main thread would never arrive: the fork then goes
// ahead without it.
constexpr auto kParkDeadline = std::chrono::seconds(1);

class ParkTask : public v8::Task {
 public:
  explicit ParkTask(std::shared_ptr<Gate> gate) : gate_(std::move(gate)) {}
  void Run() override {
    std::unique_lock<std::mutex> lock(gate_->mutex);
    if (gate_->open) return;  // arrived after the fork: nothing to wait for
    gate_->arrived++;
#if defined(__SANITIZE_ADDRESS__)
    pthread_attr_t attr;
    void* stack;
    size_t size;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      if (pthread_attr_getstack(&attr, &stack, &size) == 0) gate_->stacks.emplace_back(stack, size);
      pthread_attr_destroy(&attr);
    }
#endif
    gate_->changed.notify_all();
    gate_->changed.wait(lock, [this] { return gate_->open; });
  }

 private:
  std::shared_ptr<Gate> gate_;
};

}  // namespace

ParkedWorkers::ParkedWorkers(node::MultiIsolatePlatform* platform)
    : gate_(std::make_shared<Gate>()) {
  // NumberOfWorkerThreads() counts the delayed-task scheduler thread too,
  // which never runs tasks.
  int workers = platform->NumberOfWorkerThreads() - 1;
  for (int i = 0; i < workers; i++) {
    platform->CallOnWorkerThread(std::make_unique<ParkTask>(gate_));
  }
  std::unique_lock<std::mutex> lock(gate_->mutex);
  gate_->changed.wait_for(lock, kParkDeadline, [&] { return gate_->arrived >= workers; });
}

ParkedWorkers::~ParkedWorkers() {
  if (!gate_) return;
  std::lock_guard<std::mutex> lock(gate_->mutex);
  gate_->open = true;
  gate_->changed.notify_all();
}

// In the child the waiters of the gate's condition variable are gone;
// signalling or destroying it could block, so it is left as it is.
void ParkedWorkers::Abandon() {
#if defined(__SANITIZE_ADDRESS__)
  // This file's frames on the parked threads' stacks (instrumented, unlike
  // Node) left AddressSanitizer's redzone marks there. The threads are gone
  // here, glibc hands their stacks to new threads or unmaps them, and V8 may
  // then map its heap at that address: without this, ASan reported its own
  // stale marks there (in the scavenger's memcpy, 3 children in 50).
  for (const auto& [stack, size] : gate_->stacks) __asan_unpoison_memory_region(stack, size);
#endif
  new std::shared_ptr<Gate>(std::move(gate_));
}

}  // namespace ipc

// Parking the platform's worker threads around fork(2) (see workers.cc).
#pragma once

#include <node.h>

#include <memory>

namespace ipc {

struct Gate;

// Holds every worker thread of Node's platform on a gate of ours for as long
// as it lives, so that none of them waits in the platform's task-queue
// condition variable at the fork. Open in the parent (the destructor), or
// Abandon() in the child, where those threads do not exist.
class ParkedWorkers {
 public:
  explicit ParkedWorkers(node::MultiIsolatePlatform* platform);
  ~ParkedWorkers();
  void Abandon();

 private:
  std::shared_ptr<Gate> gate_;
};

}  // namespace ipc

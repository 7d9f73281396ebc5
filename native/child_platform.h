// V8's background tasks in a forked child, on threads of the child's own (see
// child_platform.cc).
#pragma once

#include <node.h>

#include <cstdint>

namespace ipc {

// In the parent, before fork(2): finds (once) the mapping that holds the
// platform's vtable. 0, or the errno of reading /proc/self/maps.
int PrepareChildPlatform(node::MultiIsolatePlatform* platform);

// In the child: routes the platform's worker tasks and DrainTasks to a thread
// pool of this process. False if a slot could not be written (errno says why).
bool AdoptPlatformInChild(node::MultiIsolatePlatform* platform);

// In the child, once the platform is adopted: waits until the pool has no
// task queued or running, and returns how many tasks it has run in all.
uint64_t WaitForChildPlatform();

}  // namespace ipc

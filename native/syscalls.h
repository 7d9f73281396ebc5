// What syscalls.cc shares with the other native files beyond its exported
// calls (those are declared by exports.h).
#pragma once

#include <sys/types.h>

namespace ipc {

// pidfd_open(pid, 0): a descriptor (close-on-exec) that polls readable once
// the process has ended; -1 with errno set. For PidfdOpen and io.cc's watch.
int OpenPidfd(pid_t pid);

}  // namespace ipc

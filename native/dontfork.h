// V8's MADV_DONTFORK mappings (see dontfork.cc).
#pragma once

#include <cstdint>
#include <vector>

namespace ipc {

struct Region {
  uintptr_t start;
  uintptr_t end;
};

// The mappings whose VmFlags include `dc` (VM_DONTCOPY); *err is an errno or 0.
std::vector<Region> DontforkRegions(int* err);

// madvise(advice) over each region; advisory, failures are ignored.
void Advise(const std::vector<Region>& regions, int advice);

}  // namespace ipc

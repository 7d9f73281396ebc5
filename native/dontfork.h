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

// The same joined into spans where only unmapped space lies between them (one
// madvise each), from a cache kept while /proc/self/maps reads the same as
// when it was filled (far cheaper than reading smaps).
std::vector<Region> CachedDontforkRegions(int* err);

// madvise(advice) over each region or span; advisory: ENOMEM for a span's
// gaps is expected, and a span refused otherwise is advised region by region.
void Advise(const std::vector<Region>& regions, int advice);

}  // namespace ipc

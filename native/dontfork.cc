// The mappings that V8 marked MADV_DONTFORK, read from /proc/self/smaps, and
// madvise(2) over a list of them. Shared by fork.cc and the benchmark's floor.
#include "dontfork.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace ipc {

static std::string ReadWholeFile(const char* path, int* err) {
  std::string text;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd == -1) {
    *err = errno;
    return text;
  }
  char chunk[65536];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n > 0) {
      text.append(chunk, n);
    } else if (n == 0 || errno != EINTR) {
      if (n == -1) *err = errno;
      break;
    }
  }
  close(fd);
  return text;
}

// The mappings whose VmFlags include `dc` (VM_DONTCOPY).
std::vector<Region> DontforkRegions(int* err) {
  std::vector<Region> regions;
  *err = 0;
  std::string smaps = ReadWholeFile("/proc/self/smaps", err);
  if (*err) return regions;
  Region current = {0, 0};
  size_t pos = 0;
  while (pos < smaps.size()) {
    size_t eol = smaps.find('\n', pos);
    if (eol == std::string::npos) eol = smaps.size();
    const char* line = smaps.c_str() + pos;
    char first = line[0];
    if ((first >= '0' && first <= '9') || (first >= 'a' && first <= 'f')) {
      // "start-end perms offset dev inode path": a new mapping begins.
      char* dash;
      current.start = strtoull(line, &dash, 16);
      current.end = strtoull(dash + 1, nullptr, 16);
    } else if (smaps.compare(pos, 8, "VmFlags:") == 0) {
      std::string flags = " " + smaps.substr(pos + 8, eol - pos - 8) + " ";
      if (flags.find(" dc ") != std::string::npos) regions.push_back(current);
    }
    pos = eol + 1;
  }
  return regions;
}

// The last smaps reading, and the /proc/self/maps text it was taken with.
// Reading maps costs no page-table walk, unlike smaps; while the list of
// mappings is the same to the byte, so are their flags: V8 marks a mapping
// MADV_DONTFORK as it creates it, and mappings that differ in that flag are
// never merged into one, so a change of the flag shows as a change of the list.
static std::string cached_maps;
static std::vector<Region> cached_regions;

std::vector<Region> CachedDontforkRegions(int* err) {
  *err = 0;
  std::string maps = ReadWholeFile("/proc/self/maps", err);
  if (*err) return {};
  if (!cached_maps.empty() && maps == cached_maps) return cached_regions;
  std::vector<Region> regions = DontforkRegions(err);
  if (*err) return regions;
  // Adjacent regions take one madvise() call.
  std::vector<Region> merged;
  for (const Region& r : regions) {
    if (!merged.empty() && merged.back().end == r.start) merged.back().end = r.end;
    else merged.push_back(r);
  }
  cached_maps = std::move(maps);
  cached_regions = merged;
  return merged;
}

void Advise(const std::vector<Region>& regions, int advice) {
  for (const Region& r : regions) {
    // Advisory; a region that cannot take the advice is left as it was.
    madvise(reinterpret_cast<void*>(r.start), r.end - r.start, advice);
  }
}

}  // namespace ipc

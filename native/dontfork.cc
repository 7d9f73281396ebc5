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

// The start and end of every mapping in a /proc/self/maps text, in order.
static std::vector<Region> Mappings(const std::string& maps) {
  std::vector<Region> mappings;
  for (size_t pos = 0; pos < maps.size();) {
    char* dash;
    uintptr_t start = strtoull(maps.c_str() + pos, &dash, 16);
    mappings.push_back({start, static_cast<uintptr_t>(strtoull(dash + 1, nullptr, 16))});
    size_t eol = maps.find('\n', pos);
    pos = eol == std::string::npos ? maps.size() : eol + 1;
  }
  return mappings;
}

// Joins regions that only unmapped address space separates: one madvise(2)
// then covers them all. madvise applies the advice to every mapping in its
// range, skips the gaps, and reports ENOMEM for them at the end (madvise(2),
// ERRORS). V8 gives each heap page a mapping of its own, so a 300 MB heap has
// about a thousand of them, most with only gaps between: a thousand calls
// become a few. A mapping that another thread creates in a gap meanwhile may
// get MADV_DONTFORK too; that is harmless here, because every mapping so
// marked is switched to MADV_DOFORK for each of this package's forks.
static std::vector<Region> JoinAcrossGaps(const std::vector<Region>& regions,
                                          const std::vector<Region>& mappings) {
  std::vector<Region> spans;
  size_t m = 0;  // index into mappings, which are in address order as regions are
  for (const Region& r : regions) {
    if (!spans.empty()) {
      // Is any mapping between the span so far and r?
      while (m < mappings.size() && mappings[m].end <= spans.back().end) m++;
      if (m < mappings.size() && mappings[m].start >= r.start) {
        spans.back().end = r.end;
        continue;
      }
    }
    spans.push_back(r);
  }
  return spans;
}

// The last smaps reading, and the /proc/self/maps text it was taken with.
// Reading maps costs no page-table walk, unlike smaps; while the list of
// mappings is the same to the byte, so are their flags: V8 marks a mapping
// MADV_DONTFORK as it creates it, and mappings that differ in that flag are
// never merged into one, so a change of the flag shows as a change of the list.
static std::string cached_maps;
static std::vector<Region> cached_regions;  // exact, for a span that madvise refuses
static std::vector<Region> cached_spans;

std::vector<Region> CachedDontforkRegions(int* err) {
  *err = 0;
  std::string maps = ReadWholeFile("/proc/self/maps", err);
  if (*err) return {};
  if (!cached_maps.empty() && maps == cached_maps) return cached_spans;
  std::vector<Region> regions = DontforkRegions(err);
  if (*err) return regions;
  cached_spans = JoinAcrossGaps(regions, Mappings(maps));
  cached_regions = std::move(regions);
  cached_maps = std::move(maps);
  return cached_spans;
}

void Advise(const std::vector<Region>& regions, int advice) {
  for (const Region& r : regions) {
    // Advisory; a region that cannot take the advice is left as it was.
    if (madvise(reinterpret_cast<void*>(r.start), r.end - r.start, advice) == 0 ||
        errno == ENOMEM) {
      continue;  // ENOMEM: the span had gaps, and every mapping in it took the advice
    }
    // Something in a joined span refused (EINVAL, say, from a VM_IO mapping
    // created in a gap): advise its V8 regions one by one instead.
    for (const Region& exact : cached_regions) {
      if (exact.start >= r.start && exact.end <= r.end &&
          (exact.start != r.start || exact.end != r.end)) {
        madvise(reinterpret_cast<void*>(exact.start), exact.end - exact.start, advice);
      }
    }
  }
}

}  // namespace ipc

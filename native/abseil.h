// The one function of abseil (linked into Node 22 and later for V8) that the
// addon calls: absl/base/internal/sysinfo.h, NominalCPUFrequency(), the CPU's
// clock rate in Hz, measured once per process by sleeping 1 ms, 2 ms, 4 ms...
// until two measurements agree (sysinfo.cc). Declared weak: Node 20 has no
// abseil, and the address is null there. Node exports it without abseil's
// inline namespace; a Node that adds one leaves the address null too, and
// fork.cc then does without it.
#pragma once

namespace absl::base_internal {
double NominalCPUFrequency() __attribute__((weak));
}

// Test helper, not part of the package's API: asks abseil, which Node 22 and
// later link into their binary for V8, for the CPU's nominal clock rate. A
// process measures that rate once, by sleeping 1 ms, 2 ms... on the asking
// thread, and keeps it; native/fork.cc has the parent measure before a fork,
// so that a child asking gets the inherited rate without sleeping.
//
// Man pages: nanosleep(2) (what the measurement sleeps with).
#include <napi.h>

#include "../../native/abseil.h"

namespace {

// nominalCpuFrequency(): the rate in Hz, or null where Node has no abseil.
Napi::Value NominalCpuFrequency(const Napi::CallbackInfo& info) {
  if (absl::base_internal::NominalCPUFrequency == nullptr) return info.Env().Null();
  return Napi::Number::New(info.Env(), absl::base_internal::NominalCPUFrequency());
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("nominalCpuFrequency",
              Napi::Function::New(env, NominalCpuFrequency, "nominalCpuFrequency"));
  return exports;
}

}  // namespace

NODE_API_MODULE(test_cpu_clock, Init)

// A forked child's own Math.random().
//
// V8 computes Math.random() in the JavaScript heap, per native context, with
// no call into the system: a cache of 64 doubles handed out from the end, the
// index of the next one, and the xorshift128+ state that refills the cache
// when the index reaches 0 (src/numbers/math-random.cc, RefillCache). A forked
// child has a copy of all three, so it draws the same numbers as its parent
// and as every sibling. No V8 API reaches them, and the function that resets
// them (MathRandom::ResetContext) is exported by Node 20 and 22 only; so this
// file mirrors where the three live: consecutive slots of the NativeContext
// (src/objects/contexts.h, NATIVE_CONTEXT_FIELDS: math_random_index, a Smi;
// math_random_state, a 16-byte ByteArray {s0, s1}; math_random_cache, a
// FixedDoubleArray), at a slot number that differs per V8 version (table
// below). Before the first fork the parent checks it (MathRandomLayoutCheck):
// the slots hold objects of those kinds and sizes, the state's s0 is the one
// the cache's last double was made from, and the double at the index is the
// one Math.random() returns next. In the child, ReseedMathRandom writes a
// state from getrandom(2) and sets the index to 0: the next Math.random()
// refills the cache from the child's own state. Raw bytes and a Smi are
// written, so the garbage collector has no reference to learn about.
//
// A context made with vm.createContext() has its own three slots. Every
// native context is on V8's weak list of them (Heap::native_contexts_list),
// newest first, linked through its last slot (NEXT_CONTEXT_LINK, contexts.h)
// and ended by undefined. No API gives the list's head, but a context made
// now is the head: from one made in the child, the walk reaches every live
// context, and each is reseeded. A context made later seeds its state from
// the isolate's random number generator (MathRandom::RefillCache), the
// parent's copy: the child gives it a seed of its own through the
// executable's symbols (Isolate::random_number_generator,
// RandomNumberGenerator::SetSeed). Without a symbol table (a stripped node)
// that step is skipped, and contexts made in the child repeat across
// siblings (docs/fork.md).
//
// Man pages: getrandom(2). V8: src/numbers/math-random.{h,cc},
// src/objects/contexts.h, src/base/utils/random-number-generator.h.
#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <v8-version.h>
#include <v8.h>

#include <cstdint>
#include <functional>
#include <string>

#include "child.h"
#include "errors.h"
#include "exports.h"

namespace ipc {
namespace {

using Address = uintptr_t;

// The NativeContext slot of math_random_index, as counted in contexts.h of
// the V8 each supported Node line ships; the state and the cache are the two
// slots after it. -1: not known for this V8, and fork() refuses.
#if V8_MAJOR_VERSION == 11 && V8_MINOR_VERSION == 3  // Node 20
constexpr int kMathRandomIndexSlot = 155;
#elif V8_MAJOR_VERSION == 12 && V8_MINOR_VERSION == 4  // Node 22
constexpr int kMathRandomIndexSlot = 158;
#elif V8_MAJOR_VERSION == 13 && V8_MINOR_VERSION == 6  // Node 24
constexpr int kMathRandomIndexSlot = 168;
#elif V8_MAJOR_VERSION == 14 && V8_MINOR_VERSION == 6  // Node 26
constexpr int kMathRandomIndexSlot = 171;
#else
constexpr int kMathRandomIndexSlot = -1;
#endif

// Full 8-byte tagged values and 32-bit Smis (no pointer compression, as in
// Node's release builds); another layout is refused rather than guessed.
constexpr bool kLayoutKnown = kMathRandomIndexSlot >= 0 && v8::internal::kApiTaggedSize == 8 &&
                              v8::internal::kSmiShiftSize == 31;
constexpr int kSmiShift = v8::internal::kSmiTagSize + v8::internal::kSmiShiftSize;
constexpr int kTaggedSize = 8;
// Every object here starts with its map and its length (a Smi); a Context's
// slots, a ByteArray's bytes and a FixedDoubleArray's doubles follow.
constexpr int kLengthOffset = kTaggedSize;
constexpr int kHeaderSize = 2 * kTaggedSize;
constexpr int kCacheSize = 64;  // MathRandom::kCacheSize
constexpr int kStateSize = 16;  // MathRandom::kStateSize

bool verified = false;               // the main context's slots
bool contexts_walk_checked = false;  // the list of every context

bool IsSmi(Address value) {
  return (value & v8::internal::kSmiTagMask) == v8::internal::kSmiTag;
}

int64_t SmiValue(Address value) {
  return static_cast<int64_t>(value) >> kSmiShift;
}

Address* Field(Address object, int offset) {
  return reinterpret_cast<Address*>(object - v8::internal::kHeapObjectTag + offset);
}

struct MathRandomSlots {
  Address* index;   // Smi: how many cache entries are left
  uint64_t* state;  // {s0, s1}
  double* cache;    // kCacheSize doubles
};

template <typename T>
Address AddressOf(v8::Local<T> value) {
#if defined(V8_ENABLE_DIRECT_HANDLE) || defined(V8_ENABLE_DIRECT_LOCAL)
  return reinterpret_cast<Address>(*value);
#else
  return *reinterpret_cast<Address*>(*value);
#endif
}

// Finds the three slots of `context`; false, with `why` set, when they do not
// hold what they should.
bool Locate(Address context, MathRandomSlots* slots, std::string* why) {
  if (!kLayoutKnown) {
    *why = std::string("the slots of Math.random()'s state are not known for V8 ") +
           v8::V8::GetVersion();
    return false;
  }
  Address length = *Field(context, kLengthOffset);
  if (!IsSmi(length) || SmiValue(length) < kMathRandomIndexSlot + 3) {
    *why = "the native context is shorter than expected";
    return false;
  }
  Address* index = Field(context, kHeaderSize + kMathRandomIndexSlot * kTaggedSize);
  Address state = index[1];
  Address cache = index[2];
  if (!IsSmi(*index) || SmiValue(*index) < 0 || SmiValue(*index) > kCacheSize) {
    *why = "no cache index where expected";
    return false;
  }
  if (IsSmi(state) || *Field(state, kLengthOffset) != static_cast<Address>(kStateSize)
                                                          << kSmiShift) {
    *why = "no 16-byte state where expected";
    return false;
  }
  if (IsSmi(cache) || *Field(cache, kLengthOffset) != static_cast<Address>(kCacheSize)
                                                          << kSmiShift) {
    *why = "no 64-entry cache where expected";
    return false;
  }
  slots->index = index;
  slots->state = reinterpret_cast<uint64_t*>(Field(state, kHeaderSize));
  slots->cache = reinterpret_cast<double*>(Field(cache, kHeaderSize));
  return true;
}

// The double that RefillCache makes of the state {s0, s1} it has just
// stepped to, the cache's last entry (base::RandomNumberGenerator::ToDouble
// and its caller). V8 11 and 12: s0's top 52 bits as a double in [1, 2),
// less 1; V8 13: s0's top 53 bits times 2^-53; V8 14: the top 53 bits of
// s0 + s1 (xorshift128+'s sum) times 2^-53.
double LastCacheEntry(uint64_t s0, uint64_t s1) {
#if V8_MAJOR_VERSION >= 14
  return static_cast<double>((s0 + s1) >> 11) * 0x1.0p-53;
#elif V8_MAJOR_VERSION == 13
  (void)s1;
  return static_cast<double>(s0 >> 11) * 0x1.0p-53;
#else
  (void)s1;
  uint64_t bits = (s0 >> 12) | 0x3FF0000000000000ull;
  double value;
  memcpy(&value, &bits, sizeof value);
  return value - 1;
#endif
}

bool SameBits(double a, double b) {
  return memcmp(&a, &b, sizeof a) == 0;
}

Address CurrentContext() {
  return AddressOf(v8::Isolate::GetCurrent()->GetCurrentContext());
}

// Calls `visit` on every native context of the isolate, from a new one (the
// list's head) to the oldest; stops at the first whose slots are not found.
// True when the walk ended where the list ends (undefined) and passed the
// calling context.
template <typename Visit>
bool ForEachContext(Visit visit) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  Address head = AddressOf(v8::Context::New(isolate));
  Address end = AddressOf(v8::Undefined(isolate));
  Address current = CurrentContext();
  bool passed_current = false;
  for (Address context = head; context != end;) {
    MathRandomSlots slots;
    std::string why;
    if (IsSmi(context) || !Locate(context, &slots, &why)) return false;
    visit(slots);
    passed_current |= context == current;
    int64_t length = SmiValue(*Field(context, kLengthOffset));
    context = *Field(context, kHeaderSize + static_cast<int>(length - 1) * kTaggedSize);
  }
  return passed_current;
}

// v8::internal::Isolate::random_number_generator() and
// v8::base::RandomNumberGenerator::SetSeed(int64_t), from the symbol table.
using IsolateRandom = void* (*)(v8::Isolate*);
using SetSeed = void (*)(void*, int64_t);
IsolateRandom isolate_random = nullptr;
SetSeed set_seed = nullptr;

// A state from getrandom(2); xorshift128+ needs one that is not all zero.
void DrawState(Napi::Env env, uint64_t state[2]) {
  state[0] = state[1] = 0;
  while (state[0] == 0 && state[1] == 0) {
    ssize_t got = getrandom(state, 2 * sizeof state[0], 0);
    if (got == -1 && errno != EINTR) throw ErrnoError(env, errno, "getrandom");
    if (got != static_cast<ssize_t>(2 * sizeof state[0])) state[0] = state[1] = 0;
  }
}

int NativeContextCount() {
  v8::HeapStatistics heap;
  v8::Isolate::GetCurrent()->GetHeapStatistics(&heap);
  return static_cast<int>(heap.number_of_native_contexts());
}

// The check of the main context's slots, done once; null when they hold what they should.
const char* CheckMainContext(const std::function<double()>& draw, std::string* why) {
  MathRandomSlots slots;
  if (!Locate(CurrentContext(), &slots, why)) return why->c_str();
  if (SmiValue(*slots.index) == 0) draw();  // refills the cache: there is a next entry to predict
  int64_t left = SmiValue(*slots.index);
  if (left < 1 || left > kCacheSize) return "the cache index did not move as expected";
  if (!SameBits(LastCacheEntry(slots.state[0], slots.state[1]), slots.cache[kCacheSize - 1])) {
    return "the state is not the one the cache was made from";
  }
  double expected = slots.cache[left - 1];
  if (!SameBits(draw(), expected) || SmiValue(*slots.index) != left - 1) {
    return "Math.random() did not return the cache entry at the index";
  }
  isolate_random = reinterpret_cast<IsolateRandom>(
      FindExecutableFunction("_ZN2v88internal7Isolate23random_number_generatorEv"));
  set_seed = reinterpret_cast<SetSeed>(
      FindExecutableFunction("_ZN2v84base21RandomNumberGenerator7SetSeedEl"));
  return nullptr;
}

}  // namespace

// mathRandomLayoutCheck(mathRandom): null if this V8's Math.random() state is
// where random.cc expects it (checked by predicting one mathRandom() call),
// else a sentence saying what was found.
Napi::Value MathRandomLayoutCheck(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsFunction()) {
    throw Napi::TypeError::New(env, "mathRandom must be a function");
  }
  Napi::Function math_random = info[0].As<Napi::Function>();
  std::string why;
  if (!verified) {
    auto draw = [&]() { return math_random.Call({}).As<Napi::Number>().DoubleValue(); };
    if (const char* found = CheckMainContext(draw, &why)) return Napi::String::New(env, found);
    verified = true;
  }
  // The walk over every context makes one (the list's head), which stays on
  // the list until a full GC: checked only once there is a second context.
  if (!contexts_walk_checked && NativeContextCount() > 1) {
    if (!ForEachContext([](const MathRandomSlots&) {})) {
      return Napi::String::New(env,
                               "the list of native contexts (vm contexts) is not where expected");
    }
    contexts_walk_checked = true;
  }
  return env.Null();
}

// reseedMathRandom(): in a forked child, gives the calling context's
// Math.random() a state drawn from getrandom(2); its next call refills the
// cache from that state.
Napi::Value ReseedMathRandom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  MathRandomSlots slots;
  std::string why;
  if (!verified || !Locate(CurrentContext(), &slots, &why)) {
    throw Napi::Error::New(env, "reseedMathRandom: the layout was not checked in this process");
  }
  // The main context first: it is reseeded even if the walk below stops early.
  uint64_t state[2];
  DrawState(env, state);
  slots.state[0] = state[0];
  slots.state[1] = state[1];
  *slots.index = 0;  // the Smi 0: the next call refills the cache from the new state
  // Making the list's head costs ~1 ms: only done when there is another
  // context, and then the parent has checked the walk (MathRandomLayoutCheck).
  if (contexts_walk_checked && NativeContextCount() > 1) {
    ForEachContext([&](const MathRandomSlots& other) {
      DrawState(env, other.state);
      *other.index = 0;
    });
  }
  if (isolate_random != nullptr && set_seed != nullptr) {
    DrawState(env, state);
    set_seed(isolate_random(v8::Isolate::GetCurrent()), static_cast<int64_t>(state[0]));
  }
  return env.Undefined();
}

}  // namespace ipc

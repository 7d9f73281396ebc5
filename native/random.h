// A forked child's own Math.random() (see random.cc).
#pragma once

#include <napi.h>

namespace ipc {

// mathRandomLayoutCheck(mathRandom): null if this V8's Math.random() state is
// where random.cc expects it (checked by predicting one mathRandom() call),
// else a sentence saying what was found.
Napi::Value MathRandomLayoutCheck(const Napi::CallbackInfo& info);

// reseedMathRandom(): in a forked child, gives the calling context's
// Math.random() a state drawn from getrandom(2); its next call refills the
// cache from that state.
Napi::Value ReseedMathRandom(const Napi::CallbackInfo& info);

}  // namespace ipc

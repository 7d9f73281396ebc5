// A forked child's own Math.random() (see random.cc).
#pragma once

#include <napi.h>

namespace ipc {

// mathRandomLayoutCheck(mathRandom): null if this V8's Math.random() state is
// where random.cc expects it (checked by predicting one mathRandom() call,
// and, once there is a vm context, by walking the list of contexts), else a
// sentence saying what was found. Called before every fork.
Napi::Value MathRandomLayoutCheck(const Napi::CallbackInfo& info);

// reseedMathRandom(): in a forked child, gives the Math.random() of every
// context (the main one, vm contexts) a state drawn from getrandom(2), and
// V8's per-isolate generator, which seeds contexts made later, a new seed.
Napi::Value ReseedMathRandom(const Napi::CallbackInfo& info);

}  // namespace ipc

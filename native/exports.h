// How both addons (addon.cc, engine.cc) put a native call on an export table.
#pragma once

#include <napi.h>

namespace ipc {

using Call = Napi::Value (*)(const Napi::CallbackInfo&);

// One function per call, named as JavaScript sees it.
inline void ExportCall(Napi::Object target, const char* name, Call call) {
  target.Set(name, Napi::Function::New(target.Env(), call, name));
}

}  // namespace ipc

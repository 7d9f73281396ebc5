// Unix-domain socket calls: socketpair(2), and sendmsg(2) / recvmsg(2)
// carrying descriptors (SCM_RIGHTS, unix(7)), shutdown(2). See socket.cc.
#pragma once

#include <napi.h>

namespace ipc {

Napi::Value Socketpair(const Napi::CallbackInfo& info);
Napi::Value Sendmsg(const Napi::CallbackInfo& info);
Napi::Value Recvmsg(const Napi::CallbackInfo& info);
Napi::Value Shutdown(const Napi::CallbackInfo& info);

// The constants their arguments take, set on `constants`.
void SetSocketConstants(Napi::Env env, Napi::Object constants);

}  // namespace ipc

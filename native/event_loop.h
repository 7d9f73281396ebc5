// The one lookup of the current event loop, for both addons.
#pragma once

#include <napi.h>
#include <uv.h>

#include "errors.h"

namespace ipc {

// The libuv loop of the thread whose JavaScript made the call. Where Node-API
// gives none, throws ERR_NO_EVENT_LOOP: every caller needs the loop to do its
// work, and a stand-in answer (0 bytes queued, no owner) would let fork() go
// ahead over a state that nobody looked at.
inline uv_loop_t* EventLoop(Napi::Env env) {
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
    throw CodedError(
        env, "ERR_NO_EVENT_LOOP",
        "no event loop: Node-API gave none for this thread, and this call works through it");
  }
  return loop;
}

}  // namespace ipc

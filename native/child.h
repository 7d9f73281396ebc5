// The forked child's event loop, inherited handles, stdio and way out (see child.cc).
#pragma once

#include <napi.h>
#include <node.h>
#include <uv.h>

#include <vector>

namespace ipc {

// Everything the child needs before it runs another line of JavaScript. Runs
// with every signal blocked; `keep_fds` are the descriptors whose handles stay
// live in the child (a prefork server's listening socket).
void SetUpChild(napi_env env, node::Environment* node_env, node::MultiIsolatePlatform* platform,
                const std::vector<int>& keep_fds);

// Bytes queued on the stream handles whose descriptor is one of `fds`.
size_t QueuedWriteBytes(uv_loop_t* loop, const std::vector<int>& fds);

Napi::Value ChildStdioReopened(const Napi::CallbackInfo& info);

}  // namespace ipc

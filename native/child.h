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

// Makes the main thread's loop call finished thread-pool work back one request
// at a time, from a list a forked child can empty (child.cc, RunFinishedWork).
// Called when the addon loads, so that a fork() in any later callback is covered.
void RunFinishedWorkOneByOne(napi_env env);

// Finds, once, the libuv counters that the child resets (called by fork()
// before it forks; reads the executable's symbol table the first time).
void PrepareChildThreadPool();

// Whether another thread's loop watches a listening socket that `keep_fds`
// does not name (the inspector's, a Worker's server): the child replaces it
// (child.cc), and the parent waits for that before fork() returns.
bool HasOtherLoopsListeners(uv_loop_t* loop, const std::vector<int>& keep_fds);

// Whether libuv runs this process's file-system requests on an io_uring (a
// ring with a kernel submission thread: libuv 1.46 to 1.48, by default on
// Node 20.4 to 20.11.0 and under UV_USE_IO_URING=1 on later Node 20). Its completions are called
// back in a loop over the ring that a child forked inside one of them goes on running, over a ring
// it no longer has: 9 of 10 such children crashed (SIGSEGV), 1 hung.
bool FileRequestsOnIoUring();

// Bytes queued on the stream handles whose descriptor is one of `fds`.
size_t QueuedWriteBytes(uv_loop_t* loop, const std::vector<int>& fds);

Napi::Value ChildStdioReopened(const Napi::CallbackInfo& info);
Napi::Value ChildInheritedWatchedFiles(const Napi::CallbackInfo& info);
Napi::Value SetParentDeathSignal(const Napi::CallbackInfo& info);

}  // namespace ipc

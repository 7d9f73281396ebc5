// Event-loop helpers for src/io/.
//
//  - watchPidExit(pid, onExit): pidfd_open(2) on `pid` and a libuv poll
//    handle (uv_poll_t) on the pidfd. The kernel makes a pidfd readable when
//    the process has ended, so the loop's own epoll tells us: no thread, no
//    timer. onExit() is called once, from the loop, after which the handle is
//    closed and the pidfd with it. Returns a function that stops watching
//    (onExit is then never called). Reaping stays with the caller (waitpid).
//  - childProcessOwns(pid): whether a child_process ChildProcess (a libuv
//    uv_process_t of this loop) is the owner of `pid`. libuv reaps those
//    itself, with waitpid(pid) from its SIGCHLD handler; reaping one here
//    would take its exit status from Node.
//  - duplicateListener(fd): fcntl(F_DUPFD_CLOEXEC) of a listening socket, the
//    internal step of OwnedFd.fromServer(). Refuses anything that is not a
//    listening socket (getsockopt SO_ACCEPTCONN), so that it is no general dup.
//
// Man pages: pidfd_open(2), poll(2), fcntl(2), getsockopt(2), socket(7);
// libuv: uv_poll_t, uv_walk, uv_process_get_pid (libuv >= 1.19).
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <uv.h>

#include <memory>

#include "args.h"
#include "errors.h"
#include "event_loop.h"
#include "exports.h"
#include "syscalls.h"

// uv_process_get_pid() appeared in libuv 1.19; every supported Node has more.
static_assert(UV_VERSION_HEX >= ((1 << 16) | (19 << 8)),
              "libuv >= 1.19 needed for uv_process_get_pid");

namespace ipc {
namespace {

struct PidWatch {
  uv_poll_t poll;
  int pidfd;
  napi_env env;
  Napi::FunctionReference on_exit;
  Napi::AsyncContext* async_context;
  // Shared with the stop function handed to JavaScript, which may be called
  // (or collected) after the watch is gone.
  std::shared_ptr<bool> live;
};

void Stop(PidWatch* watch) {
  if (!*watch->live) return;
  *watch->live = false;
  uv_poll_stop(&watch->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&watch->poll), [](uv_handle_t* handle) {
    PidWatch* closed = static_cast<PidWatch*>(handle->data);
    close(closed->pidfd);
    delete closed->async_context;
    delete closed;
  });
}

void OnPidfdReadable(uv_poll_t* handle, int status, int /*events*/) {
  PidWatch* watch = static_cast<PidWatch*>(handle->data);
  // status < 0 (an error from epoll) also ends the watch: onExit then finds
  // out with waitpid whether the child really ended.
  (void)status;
  Napi::Env env(watch->env);
  Napi::HandleScope scope(env);
  Napi::Function on_exit = watch->on_exit.Value();
  Stop(watch);
  try {
    on_exit.MakeCallback(env.Global(), {}, *watch->async_context);
  } catch (const Napi::Error& e) {
    napi_fatal_exception(env, e.Value());
  }
}

}  // namespace

Napi::Value WatchPidExit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  pid_t pid = IntArg(info, 0, "pid");
  if (info.Length() < 2 || !info[1].IsFunction()) {
    throw Napi::TypeError::New(env, "onExit must be a function");
  }
  uv_loop_t* loop = EventLoop(env);
  int pidfd = OpenPidfd(pid);
  if (pidfd == -1) throw ErrnoError(env, errno, "pidfd_open");
  // Nothing inherits the pidfd through exec.
  fcntl(pidfd, F_SETFD, FD_CLOEXEC);

  PidWatch* watch = new PidWatch();
  watch->pidfd = pidfd;
  watch->env = env;
  watch->live = std::make_shared<bool>(true);
  int r = uv_poll_init(loop, &watch->poll, pidfd);
  if (r != 0) {
    close(pidfd);
    delete watch;
    throw ErrnoError(env, -r, "uv_poll_init");
  }
  watch->poll.data = watch;
  watch->on_exit = Napi::Persistent(info[1].As<Napi::Function>());
  watch->async_context = new Napi::AsyncContext(env, "bidirectional-ipc:waitExit");
  r = uv_poll_start(&watch->poll, UV_READABLE, OnPidfdReadable);
  if (r != 0) {
    Stop(watch);
    throw ErrnoError(env, -r, "uv_poll_start");
  }
  std::shared_ptr<bool> live = watch->live;
  return Napi::Function::New(
      env,
      [watch, live](const Napi::CallbackInfo& call) {
        if (*live) Stop(watch);  // after onExit (or a second call) the watch is gone
        return call.Env().Undefined();
      },
      "stopWatching");
}

Napi::Value ChildProcessOwns(const Napi::CallbackInfo& info) {
  pid_t pid = IntArg(info, 0, "pid");
  uv_loop_t* loop = EventLoop(info.Env());
  struct Search {
    pid_t pid;
    bool found;
  } search = {pid, false};
  uv_walk(
      loop,
      [](uv_handle_t* h, void* arg) {
        Search* s = static_cast<Search*>(arg);
        if (h->type == UV_PROCESS && !uv_is_closing(h) &&
            uv_process_get_pid(reinterpret_cast<uv_process_t*>(h)) == s->pid) {
          s->found = true;
        }
      },
      &search);
  return Napi::Boolean::New(info.Env(), search.found);
}

Napi::Value DuplicateListener(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  int listening = 0;
  socklen_t size = sizeof listening;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == -1) {
    throw ErrnoError(info.Env(), errno, "getsockopt");
  }
  if (!listening) throw ErrnoError(info.Env(), EINVAL, "getsockopt");
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy == -1) throw ErrnoError(info.Env(), errno, "fcntl");
  return Napi::Number::New(info.Env(), copy);
}

}  // namespace ipc

// One function per system call, each a thin wrapper that checks its arguments,
// makes exactly one call (plus retries on EINTR where the policy says so) and
// turns a failure into an errno Error.
//
// Man pages: pipe(2), read(2), write(2), close(2), waitpid(2), _exit(2),
// getpid(2), getppid(2), nanosleep(2).
//
// EINTR policy (as PEP 475): read, write, waitpid and nanosleep are retried when a
// signal interrupts them; close is not, because on Linux the descriptor is
// already released when close fails with EINTR, and a retry could close a
// descriptor that another thread has just been given.
#include "syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errors.h"

namespace ipc {

Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int flags = IntArg(info, 0, "flags");
  int fds[2];
  if (pipe2(fds, flags) == -1) throw ErrnoError(info.Env(), errno, "pipe");
  Napi::Array result = Napi::Array::New(info.Env(), 2);
  result.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  result.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return result;
}

// read(fd, buffer, offset, length): bytes read into buffer[offset..], 0 at end of file.
Napi::Value Read(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  size_t size;
  uint8_t* data = BytesArg(info, 1, "buffer", &size);
  int32_t offset = IntArg(info, 2, "offset");
  int32_t length = IntArg(info, 3, "length");
  CheckRange(info.Env(), offset, length, size);
  ssize_t n;
  do n = read(fd, data + offset, length);
  while (n == -1 && errno == EINTR);
  if (n == -1) throw ErrnoError(info.Env(), errno, "read");
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// write(fd, buffer, offset, length): one write(2); the count may be short.
Napi::Value Write(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  size_t size;
  const uint8_t* data = BytesArg(info, 1, "buffer", &size);
  int32_t offset = IntArg(info, 2, "offset");
  int32_t length = IntArg(info, 3, "length");
  CheckRange(info.Env(), offset, length, size);
  ssize_t n;
  do n = write(fd, data + offset, length);
  while (n == -1 && errno == EINTR);
  if (n == -1) throw ErrnoError(info.Env(), errno, "write");
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  if (close(fd) == -1) throw ErrnoError(info.Env(), errno, "close");
  return info.Env().Undefined();
}

// waitpid(pid, options): [pid, raw status]; pid is 0 under WNOHANG while the child runs.
Napi::Value Waitpid(const Napi::CallbackInfo& info) {
  pid_t pid = SignedIntArg(info, 0, "pid");
  int options = IntArg(info, 1, "options");
  int status = 0;
  pid_t result;
  do result = waitpid(pid, &status, options);
  while (result == -1 && errno == EINTR);
  if (result == -1) throw ErrnoError(info.Env(), errno, "waitpid");
  Napi::Array pair = Napi::Array::New(info.Env(), 2);
  pair.Set(0u, Napi::Number::New(info.Env(), result));
  pair.Set(1u, Napi::Number::New(info.Env(), status));
  return pair;
}

// _exit(code): ends the process at once; no exit handlers, no stdio flush.
Napi::Value Exit(const Napi::CallbackInfo& info) {
  int code = SignedIntArg(info, 0, "code");
  _exit(code & 0xff);
}

Napi::Value Getpid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), getpid());
}

Napi::Value Getppid(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), getppid());
}

// sleep(ms): blocks the calling thread, as Rust's thread::sleep does, with
// nanosleep(2) resumed for the time left after a signal.
Napi::Value Sleep(const Napi::CallbackInfo& info) {
  int32_t ms = IntArg(info, 0, "milliseconds");
  struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&left, &left) == -1) {
    if (errno != EINTR) throw ErrnoError(info.Env(), errno, "nanosleep");
  }
  return info.Env().Undefined();
}

}  // namespace ipc

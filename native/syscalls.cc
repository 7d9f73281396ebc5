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

// The span of a read or write: fd, buffer, offset, length, fetched with one
// Node-API call per argument (no napi_is_typedarray: napi_get_typedarray_info
// refuses anything else itself). This is on the path of every read and write.
// Returns false when any argument is wrong; the caller then runs the general
// checks of errors.h, which throw the precise error.
static bool IoSpan(const Napi::CallbackInfo& info, int* fd, uint8_t** span, size_t* length) {
  napi_env env = info.Env();
  double numbers[3];  // fd, offset, length
  napi_typedarray_type type;
  size_t size;
  void* data;
  if (info.Length() < 4 ||
      napi_get_value_double(env, info[0], &numbers[0]) != napi_ok ||
      napi_get_typedarray_info(env, info[1], &type, &size, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array ||
      napi_get_value_double(env, info[2], &numbers[1]) != napi_ok ||
      napi_get_value_double(env, info[3], &numbers[2]) != napi_ok) {
    return false;
  }
  for (double n : numbers) {
    if (!(n >= 0 && n <= INT32_MAX) || static_cast<double>(static_cast<int32_t>(n)) != n) return false;
  }
  if (numbers[1] + numbers[2] > static_cast<double>(size)) return false;
  *fd = static_cast<int>(numbers[0]);
  *length = static_cast<size_t>(numbers[2]);
  // data is null, with size 0, for a detached buffer: only an empty span passes.
  *span = static_cast<uint8_t*>(data) + static_cast<size_t>(numbers[1]);
  return true;
}

// The precise error for arguments that IoSpan refused (always throws).
[[noreturn]] static void ThrowIoArgError(const Napi::CallbackInfo& info) {
  IntArg(info, 0, "fd");
  size_t size;
  BytesArg(info, 1, "buffer", &size);
  int32_t offset = IntArg(info, 2, "offset");
  int32_t length = IntArg(info, 3, "length");
  CheckRange(info.Env(), offset, length, size);
  throw Napi::RangeError::New(info.Env(), "offset and length must lie within the buffer");
}

// A byte count as a small integer: no heap number is allocated for it.
static Napi::Value Count(napi_env env, ssize_t n) {
  napi_value result;
  napi_create_int32(env, static_cast<int32_t>(n), &result);
  return Napi::Value(env, result);
}

// read(fd, buffer, offset, length): bytes read into buffer[offset..], 0 at end of file.
Napi::Value Read(const Napi::CallbackInfo& info) {
  int fd;
  uint8_t* data;
  size_t length;
  if (!IoSpan(info, &fd, &data, &length)) ThrowIoArgError(info);
  ssize_t n;
  do n = read(fd, data, length);
  while (n == -1 && errno == EINTR);
  if (n == -1) throw ErrnoError(info.Env(), errno, "read");
  return Count(info.Env(), n);
}

// write(fd, buffer, offset, length): one write(2); the count may be short.
Napi::Value Write(const Napi::CallbackInfo& info) {
  int fd;
  uint8_t* data;
  size_t length;
  if (!IoSpan(info, &fd, &data, &length)) ThrowIoArgError(info);
  ssize_t n;
  do n = write(fd, data, length);
  while (n == -1 && errno == EINTR);
  if (n == -1) throw ErrnoError(info.Env(), errno, "write");
  return Count(info.Env(), n);
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

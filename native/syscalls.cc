// One function per system call, each a thin wrapper that checks its arguments,
// makes exactly one call (plus retries on EINTR where the policy says so) and
// turns a failure into an errno Error.
//
// Man pages: pipe(2), read(2), write(2), close(2), waitpid(2), _exit(2),
// getpid(2), getppid(2), nanosleep(2), dup(2), dup2(2), execvp(3), kill(2),
// poll(2), fcntl(2), ioctl_fionread (FIONREAD in ioctl_tty(2) / pipe(7)),
// mkfifo(3), prctl(2) (PR_SET_PDEATHSIG), pidfd_open(2), sigaction(2).
//
// EINTR policy (as PEP 475): read, write, waitpid and nanosleep are retried when a
// signal interrupts them; close is not, because on Linux the descriptor is
// already released when close fails with EINTR, and a retry could close a
// descriptor that another thread has just been given. dup2 is retried (the
// same call again has the same effect); poll is retried with the time that is
// left of its timeout, measured on CLOCK_MONOTONIC. dup, execvp, kill, the
// fcntl commands accepted here, FIONREAD and mkfifo do not block, so never
// see EINTR.
#include "syscalls.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "exports.h"

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
// checks of args.h, which throw the precise error.
static bool IoSpan(const Napi::CallbackInfo& info, int* fd, uint8_t** span, size_t* length) {
  napi_env env = info.Env();
  double numbers[3];  // fd, offset, length
  napi_typedarray_type type;
  size_t size;
  void* data;
  if (info.Length() < 4 || napi_get_value_double(env, info[0], &numbers[0]) != napi_ok ||
      napi_get_typedarray_info(env, info[1], &type, &size, &data, nullptr, nullptr) != napi_ok ||
      type != napi_uint8_array || napi_get_value_double(env, info[2], &numbers[1]) != napi_ok ||
      napi_get_value_double(env, info[3], &numbers[2]) != napi_ok) {
    return false;
  }
  for (double n : numbers) {
    if (!(n >= 0 && n <= INT32_MAX) || static_cast<double>(static_cast<int32_t>(n)) != n)
      return false;
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

Napi::Value Dup(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  int copy = dup(fd);
  if (copy == -1) throw ErrnoError(info.Env(), errno, "dup");
  return Napi::Number::New(info.Env(), copy);
}

Napi::Value Dup2(const Napi::CallbackInfo& info) {
  int oldfd = IntArg(info, 0, "oldfd");
  int newfd = IntArg(info, 1, "newfd");
  int result;
  do result = dup2(oldfd, newfd);
  while (result == -1 && errno == EINTR);
  if (result == -1) throw ErrnoError(info.Env(), errno, "dup2");
  return Napi::Number::New(info.Env(), result);
}

// execvp(file, argv): argv is an array of strings (argv[0] included). Returns
// only on failure. Nothing of Node runs on the way out: the kernel replaces the
// whole image, keeping descriptors without FD_CLOEXEC, ignored signals and the
// signal mask, as execve(2) says. Node sets FD_CLOEXEC on 0-2 at start-up, so
// it is cleared on those three first (the program gets its stdio, as from a
// shell), and put back if execvp fails, leaving the process as it was.
Napi::Value Execvp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsArray()) {
    throw Napi::TypeError::New(env, "execvp(file, args): a string and an array of strings");
  }
  std::string file = info[0].As<Napi::String>().Utf8Value();
  Napi::Array list = info[1].As<Napi::Array>();
  std::vector<std::string> args;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value arg = list.Get(i);
    if (!arg.IsString()) throw Napi::TypeError::New(env, "args must be strings");
    args.push_back(arg.As<Napi::String>().Utf8Value());
  }
  // A NUL inside a string would silently cut it short in C.
  if (file.find('\0') != std::string::npos)
    throw Napi::TypeError::New(env, "file contains a NUL byte");
  std::vector<char*> argv;
  for (std::string& arg : args) {
    if (arg.find('\0') != std::string::npos)
      throw Napi::TypeError::New(env, "args contain a NUL byte");
    argv.push_back(arg.data());
  }
  argv.push_back(nullptr);
  int stdioFlags[3];
  for (int fd = 0; fd < 3; fd++) {
    stdioFlags[fd] = fcntl(fd, F_GETFD);  // -1: not open, nothing to give
    if (stdioFlags[fd] > 0) fcntl(fd, F_SETFD, stdioFlags[fd] & ~FD_CLOEXEC);
  }
  execvp(file.c_str(), argv.data());
  int error = errno;
  for (int fd = 0; fd < 3; fd++) {
    if (stdioFlags[fd] > 0) fcntl(fd, F_SETFD, stdioFlags[fd]);
  }
  throw ErrnoError(env, error, "execvp");
}

Napi::Value Kill(const Napi::CallbackInfo& info) {
  pid_t pid = SignedIntArg(info, 0, "pid");
  int sig = IntArg(info, 1, "signal");
  if (kill(pid, sig) == -1) throw ErrnoError(info.Env(), errno, "kill");
  return info.Env().Undefined();
}

static double MonotonicMs() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1e3 + now.tv_nsec / 1e6;
}

// poll(entries, timeoutMs): entries is an Int32Array of [fd, events, revents]
// triples; revents is filled in. Returns the number of entries with revents.
Napi::Value Poll(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    throw Napi::TypeError::New(env, "entries must be an Int32Array");
  }
  Napi::Int32Array entries = info[0].As<Napi::Int32Array>();
  constexpr size_t kFieldsPerEntry = 3;  // fd, events, revents
  if (entries.ElementLength() % kFieldsPerEntry != 0) {
    throw Napi::RangeError::New(env, "entries must hold [fd, events, revents] triples");
  }
  int32_t timeout = SignedIntArg(info, 1, "timeout");
  if (timeout < -1) throw Napi::RangeError::New(env, "timeout must be >= -1");
  size_t count = entries.ElementLength() / kFieldsPerEntry;
  std::vector<struct pollfd> fds(count);
  for (size_t i = 0; i < count; i++) {
    fds[i].fd = entries[i * kFieldsPerEntry];
    fds[i].events = static_cast<short>(entries[i * kFieldsPerEntry + 1]);
    fds[i].revents = 0;
  }
  double deadline = MonotonicMs() + timeout;
  int ready;
  for (;;) {
    ready = poll(fds.data(), count, timeout);
    if (ready != -1 || errno != EINTR) break;
    // Interrupted: wait again only for what is left of the timeout.
    if (timeout > 0) {
      double left = deadline - MonotonicMs();
      timeout = left > 0 ? static_cast<int32_t>(left + 0.999) : 0;
    }
  }
  if (ready == -1) throw ErrnoError(env, errno, "poll");
  for (size_t i = 0; i < count; i++) entries[i * kFieldsPerEntry + 2] = fds[i].revents;
  return Napi::Number::New(env, ready);
}

// fcntl(fd, cmd, arg): only the integer commands listed here; the others take
// pointers (locks, owners) or may block (F_SETLKW), and are refused.
Napi::Value Fcntl(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  int cmd = IntArg(info, 1, "cmd");
  int arg = IntArg(info, 2, "arg");
  switch (cmd) {
    case F_GETFL:
    case F_SETFL:
    case F_GETFD:
    case F_SETFD:
    case F_GETPIPE_SZ:
    case F_SETPIPE_SZ:
      break;
    default:
      throw Napi::RangeError::New(info.Env(),
                                  "cmd must be F_GETFL, F_SETFL, F_GETFD, F_SETFD, "
                                  "F_GETPIPE_SZ or F_SETPIPE_SZ");
  }
  int result = fcntl(fd, cmd, arg);
  if (result == -1) throw ErrnoError(info.Env(), errno, "fcntl");
  return Napi::Number::New(info.Env(), result);
}

// bytesQueued(fd): ioctl(fd, FIONREAD): the bytes waiting to be read.
Napi::Value BytesQueued(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  int queued = 0;
  if (ioctl(fd, FIONREAD, &queued) == -1) throw ErrnoError(info.Env(), errno, "ioctl");
  return Napi::Number::New(info.Env(), queued);
}

// mkfifo(path, mode): a named pipe at `path`, with permissions `mode` less the
// umask. Creating it does not block; opening it (open(2)) does, until the
// other side opens too (fifo(7)).
Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString())
    throw Napi::TypeError::New(env, "path must be a string");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  // A NUL inside the string would silently cut the path short in C.
  if (path.find('\0') != std::string::npos)
    throw Napi::TypeError::New(env, "path contains a NUL byte");
  int mode = IntArg(info, 1, "mode");
  if (mode > 07777) throw Napi::RangeError::New(env, "mode must be <= 0o7777");
  if (mkfifo(path.c_str(), static_cast<mode_t>(mode)) == -1) throw ErrnoError(env, errno, "mkfifo");
  return env.Undefined();
}

// For the sigchld lesson only (not public): blocks or unblocks one signal for
// the calling thread with pthread_sigmask(3), so that the lesson can show that
// three SIGCHLDs sent while it is blocked leave one pending signal.
Napi::Value LessonBlockSignal(const Napi::CallbackInfo& info) {
  int signo = IntArg(info, 0, "signal");
  bool block = info.Length() > 1 && info[1].ToBoolean().Value();
  sigset_t set;
  sigemptyset(&set);
  if (sigaddset(&set, signo) == -1) throw ErrnoError(info.Env(), errno, "sigaddset");
  int err = pthread_sigmask(block ? SIG_BLOCK : SIG_UNBLOCK, &set, nullptr);
  if (err != 0) throw ErrnoError(info.Env(), err, "pthread_sigmask");
  return info.Env().Undefined();
}

// setParentDeathSignal(signal): prctl(PR_SET_PDEATHSIG): the kernel sends
// `signal` (0: none) to this process when the thread that forked it ends.
Napi::Value SetParentDeathSignal(const Napi::CallbackInfo& info) {
  int signo = IntArg(info, 0, "signal");
  if (prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(signo)) == -1) {
    throw ErrnoError(info.Env(), errno, "prctl");
  }
  return info.Env().Undefined();
}

// glibc has a wrapper only from 2.36; the system call number is in every
// kernel header that has pidfds (Linux 5.3).
int OpenPidfd(pid_t pid) {
#ifdef SYS_pidfd_open
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
#else
  errno = ENOSYS;
  return -1;
#endif
}

// pidfdOpen(pid): a descriptor that refers to process `pid`.
Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  pid_t pid = IntArg(info, 0, "pid");
  int fd = OpenPidfd(pid);
  if (fd == -1) throw ErrnoError(info.Env(), errno, "pidfd_open");
  return Napi::Number::New(info.Env(), fd);
}

// For the no-zombies lesson only (not public), in a forked child: SIGCHLD's
// disposition with sigaction(2): 0 the default, 1 SIG_IGN, 2 the default with
// SA_NOCLDWAIT. Both of the last two have the kernel reap the children.
Napi::Value LessonSetSigchld(const Napi::CallbackInfo& info) {
  int mode = IntArg(info, 0, "mode");
  if (mode > 2) throw Napi::RangeError::New(info.Env(), "mode must be 0, 1 or 2");
  struct sigaction action = {};
  action.sa_handler = mode == 1 ? SIG_IGN : SIG_DFL;
  action.sa_flags = mode == 2 ? SA_NOCLDWAIT : 0;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGCHLD, &action, nullptr) == -1) throw ErrnoError(info.Env(), errno, "sigaction");
  return info.Env().Undefined();
}

// For the parent-death lesson only (not public), in a forked child:
// prctl(PR_SET_CHILD_SUBREAPER, 1), so that the orphans among its descendants
// become its children and it can wait for them (and see their wait status).
Napi::Value LessonBecomeSubreaper(const Napi::CallbackInfo& info) {
  if (prctl(PR_SET_CHILD_SUBREAPER, 1UL) == -1) throw ErrnoError(info.Env(), errno, "prctl");
  return info.Env().Undefined();
}

}  // namespace ipc

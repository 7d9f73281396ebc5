// Unix-domain sockets that carry descriptors between processes.
//
// Man pages: socketpair(2), sendmsg(2), recvmsg(2), shutdown(2), unix(7) (SCM_RIGHTS),
// cmsg(3) (the control-message layout).
//
// EINTR policy (as syscalls.cc): sendmsg and recvmsg are retried; a
// descriptor-passing sendmsg that a signal interrupts has sent nothing, and
// the same call again sends it once. socketpair and shutdown do not block.
//
// Descriptors received are always close-on-exec (MSG_CMSG_CLOEXEC), so none
// leaks into a program that a child_process spawns meanwhile. A message
// whose control part or data did not fit (MSG_CTRUNC, MSG_TRUNC) is an
// EMSGSIZE error, never a short result: the kernel has already discarded
// the descriptors or bytes that did not fit, and the ones that did arrive
// are closed here rather than handed back as if the message were whole.
#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <vector>

#include "args.h"
#include "errors.h"
#include "exports.h"

namespace ipc {

// The most descriptors one message carries: the kernel's own limit
// (SCM_MAX_FD in include/net/scm.h).
constexpr int32_t kMaxFds = 253;

// socketpair(type, flags): [fd0, fd1], a connected pair in the AF_UNIX domain.
// type is SOCK_STREAM or SOCK_SEQPACKET; flags an OR of SOCK_CLOEXEC and
// SOCK_NONBLOCK (socketpair(2) takes them ORed into the type).
Napi::Value Socketpair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int type = IntArg(info, 0, "type");
  int flags = IntArg(info, 1, "flags");
  if (type != SOCK_STREAM && type != SOCK_SEQPACKET) {
    throw Napi::RangeError::New(env, "type must be SOCK_STREAM or SOCK_SEQPACKET");
  }
  if ((flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK)) != 0) {
    throw Napi::RangeError::New(env, "flags must be an OR of SOCK_CLOEXEC and SOCK_NONBLOCK");
  }
  int fds[2];
  if (socketpair(AF_UNIX, type | flags, 0, fds) == -1) throw ErrnoError(env, errno, "socketpair");
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, fds[0]));
  result.Set(1u, Napi::Number::New(env, fds[1]));
  return result;
}

// The bytes [offset, offset + length) of argument i, a Uint8Array.
static uint8_t* SpanArg(const Napi::CallbackInfo& info, size_t i, size_t* length) {
  size_t size;
  uint8_t* data = BytesArg(info, i, "buffer", &size);
  int32_t offset = IntArg(info, i + 1, "offset");
  int32_t count = IntArg(info, i + 2, "length");
  CheckRange(info.Env(), offset, count, size);
  *length = static_cast<size_t>(count);
  return data == nullptr ? data : data + offset;
}

// sendmsg(fd, buffer, offset, length, fds, flags): sends the bytes with the
// descriptors `fds` (an array of numbers, maybe empty) attached as one
// SCM_RIGHTS message. flags: an OR of MSG_DONTWAIT and MSG_NOSIGNAL. Returns
// the bytes sent. At least one byte must go with descriptors: on a stream
// socket the kernel attaches them to the bytes, and with none sent nothing
// would carry them.
Napi::Value Sendmsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  size_t length;
  uint8_t* data = SpanArg(info, 1, &length);
  if (info.Length() < 5 || !info[4].IsArray())
    throw Napi::TypeError::New(env, "fds must be an array");
  Napi::Array list = info[4].As<Napi::Array>();
  int flags = IntArg(info, 5, "flags");
  if ((flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL)) != 0) {
    throw Napi::RangeError::New(env, "flags must be an OR of MSG_DONTWAIT and MSG_NOSIGNAL");
  }
  if (list.Length() > static_cast<uint32_t>(kMaxFds)) {
    throw Napi::RangeError::New(env, "fds must hold at most 253 descriptors (SCM_MAX_FD)");
  }
  std::vector<int> fds(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value entry = list.Get(i);
    double n;
    if (napi_get_value_double(env, entry, &n) != napi_ok) {
      throw Napi::TypeError::New(env, "fds must hold numbers");
    }
    if (!(n >= 0 && n <= INT32_MAX) || static_cast<double>(static_cast<int32_t>(n)) != n) {
      throw Napi::RangeError::New(env, "fds must hold integers >= 0");
    }
    fds[i] = static_cast<int>(n);
  }
  if (!fds.empty() && length == 0) {
    throw Napi::RangeError::New(env, "descriptors must travel with at least one byte");
  }
  struct iovec iov = {data, length};
  struct msghdr message = {};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  std::vector<char> control(fds.empty() ? 0 : CMSG_SPACE(sizeof(int) * fds.size()));
  if (!fds.empty()) {
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    struct cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(header), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t sent;
  do sent = sendmsg(fd, &message, flags);
  while (sent == -1 && errno == EINTR);
  if (sent == -1) throw ErrnoError(env, errno, "sendmsg");
  return Napi::Number::New(env, static_cast<double>(sent));
}

// recvmsg(fd, buffer, offset, length, maxFds, flags): [bytes, fds], the
// bytes read into buffer[offset..] (0 at end of stream) and the descriptors
// that came with them, close-on-exec. flags: 0 or MSG_DONTWAIT.
Napi::Value Recvmsg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = IntArg(info, 0, "fd");
  size_t length;
  uint8_t* data = SpanArg(info, 1, &length);
  int32_t max_fds = IntArg(info, 4, "maxFds");
  int flags = IntArg(info, 5, "flags");
  if (max_fds > kMaxFds) throw Napi::RangeError::New(env, "maxFds must be <= 253 (SCM_MAX_FD)");
  if ((flags & ~MSG_DONTWAIT) != 0)
    throw Napi::RangeError::New(env, "flags must be 0 or MSG_DONTWAIT");
  struct iovec iov = {data, length};
  struct msghdr message = {};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  // Room for one more than asked, so that a sender who attached more than
  // maxFds is seen (MSG_CTRUNC) even when the kernel's rounding of the space
  // would have fitted them silently.
  std::vector<char> control(CMSG_SPACE(sizeof(int) * (max_fds + 1)));
  message.msg_control = control.data();
  message.msg_controllen = control.size();
  ssize_t received;
  do received = recvmsg(fd, &message, flags | MSG_CMSG_CLOEXEC);
  while (received == -1 && errno == EINTR);
  if (received == -1) throw ErrnoError(env, errno, "recvmsg");
  std::vector<int> fds;
  for (struct cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; i++) {
      int received_fd;
      std::memcpy(&received_fd, CMSG_DATA(header) + i * sizeof(int), sizeof(int));
      fds.push_back(received_fd);
    }
  }
  bool truncated = (message.msg_flags & (MSG_CTRUNC | MSG_TRUNC)) != 0 ||
                   fds.size() > static_cast<size_t>(max_fds);
  if (truncated) {
    for (int received_fd : fds) close(received_fd);
    throw ErrnoError(env, EMSGSIZE, "recvmsg");
  }
  Napi::Array list = Napi::Array::New(env, fds.size());
  for (uint32_t i = 0; i < fds.size(); i++) list.Set(i, Napi::Number::New(env, fds[i]));
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, static_cast<double>(received)));
  result.Set(1u, list);
  return result;
}

// shutdown(fd, how): ends one direction (SHUT_RD, SHUT_WR) or both
// (SHUT_RDWR) of a connected socket, for every descriptor of it; unlike
// close, the descriptor stays open.
Napi::Value Shutdown(const Napi::CallbackInfo& info) {
  int fd = IntArg(info, 0, "fd");
  int how = IntArg(info, 1, "how");
  if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
    throw Napi::RangeError::New(info.Env(), "how must be SHUT_RD, SHUT_WR or SHUT_RDWR");
  }
  if (shutdown(fd, how) == -1) throw ErrnoError(info.Env(), errno, "shutdown");
  return info.Env().Undefined();
}

}  // namespace ipc

// The forked child's event loop, inherited handles, stdio and way out.
//
// The child starts with a copy of the parent's libuv loop: its handles, its
// queue of finished thread-pool work, its spawned processes. Before the child
// runs JavaScript (signals still blocked, see fork.cc), this file:
//
//  1. gives the loop its own epoll, wake-up and signal descriptors
//     (uv_loop_fork);
//  2. drops the thread-pool work that had finished in the parent but whose
//     callback had not run yet (loop->wq, and the rest of the batch being
//     called back when fork() was called from one of its callbacks, see
//     RunFinishedWork): those callbacks belong to the parent. Work still queued or running on the
//     pool at the fork is lost with the pool's threads; libuv itself discards that queue when the
//     child first uses the pool (src/threadpool.c: init_once registers pthread_atfork(NULL, NULL,
//     reset_once), and the next uv__work_submit re-runs init_threads, which re-creates the threads,
//     the mutex, the condition variable and an empty queue). The requests of both kinds stay
//     counted in loop->active_reqs and are discounted when the child decides whether it has
//     anything left of its own. libuv's count of running slow lookups (getaddrinfo, getnameinfo) is
//     the parent's; the child's pool starts with none (ResetThreadPoolCounts);
//  3. detaches every inherited I/O handle that the program did not ask to
//     keep: its watcher is taken out of the child's loop (no read, accept or
//     write of the parent's ever happens here) and its descriptor is replaced
//     by an inert socket, so that the child holds no reference to the
//     parent's connections, listening ports or IPC channel; stdin, once the
//     parent's program has opened it, goes the same way; stdout and stderr stay;
//  4. makes the processes the parent spawned inert: the child neither waits
//     for them nor reaps them, kill() on them reaches nothing, and the 'exit'
//     callbacks of those the parent had reaped but not yet called back (when
//     fork() was called from one of their 'exit' listeners) never run;
//  5. unrefs the async handles (their threads, Workers' above all, are gone);
//  6. re-opens stdout/stderr pipes with a file description of its own, routes
//     process exit straight to _exit(2) (Node's teardown needs the threads the
//     child does not have), and starts a prepare handle that notices when the
//     loop has nothing left, which is where Node would begin that teardown.
//
// The private libuv fields used here (uv/unix.h UV_LOOP_PRIVATE_FIELDS wq,
// wq_mutex, watchers, nfds; uv__io_t; UV_PROCESS_PRIVATE_FIELDS queue) and the
// behaviour of uv_loop_fork (src/unix/loop.c: every watcher is re-queued for
// registration with the new epoll) were checked against libuv 1.46 (Node 20)
// to 1.52 (Node 24, 26): checked_uv.h names that range, and fork() refuses
// any other version (src/native.ts).
//
// Man pages: fork(2), socketpair(2), dup3(2), kill(2), open(2), proc(5);
// libuv: uv_loop_fork, uv_walk, uv_prepare_t, uv_fs_event_stop, uv_fs_poll_stop.
#include "child.h"

#include <dirent.h>
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <unordered_set>

#include "child_platform.h"
#include "errors.h"

namespace ipc {
namespace {

// Exit status of a child that cannot be set up (EX_SOFTWARE, sysexits.h).
constexpr int kSetupFailed = 70;
// Rounds of foreground tasks alone, with no background task run between
// them, after which a child whose loop has run dry stops waiting (OnPrepare).
constexpr int kForegroundOnlyRounds = 4;
// A pid no process can have (above Linux's PID_MAX_LIMIT, 2^22): kill(2) on
// it fails with ESRCH, which is what an inert process handle should give.
constexpr int kNoSuchPid = INT_MAX;

struct Child {
  node::Environment* node_env;
  v8::Isolate* isolate;
  node::MultiIsolatePlatform* platform;
  uv_prepare_t idle_check;
  // Requests counted in loop->active_reqs at the fork that never finish in
  // the child (thread-pool work of the parent, writes on detached handles).
  unsigned int inherited_reqs;
};
Child* child = nullptr;
std::vector<int> reopened_stdio;
std::vector<std::string> inherited_stat_paths;  // of the fs.watchFile watchers stopped in the child

void QueueInit(struct uv__queue* q) {
  q->next = q;
  q->prev = q;
}

// libuv's uv__queue_remove (src/queue.h), leaving the entry self-linked so
// that a later removal by libuv itself changes nothing.
void QueueRemove(struct uv__queue* q) {
  q->prev->next = q->next;
  q->next->prev = q->prev;
  QueueInit(q);
}

bool QueueEmpty(const struct uv__queue* q) {
  return q->next == q;
}

void QueueInsertTail(struct uv__queue* h, struct uv__queue* q) {
  q->next = h;
  q->prev = h->prev;
  q->prev->next = q;
  h->prev = q;
}

// libuv's uv__queue_move: every entry of `from` moves to `to`, `from` ends empty.
void QueueMove(struct uv__queue* from, struct uv__queue* to) {
  if (QueueEmpty(from)) {
    QueueInit(to);
    return;
  }
  to->next = from->next;
  to->prev = from->prev;
  to->next->prev = to;
  to->prev->next = to;
  QueueInit(from);
}

// Finished thread-pool work, called back one request at a time.
//
// libuv's uv__work_done (src/threadpool.c), the callback of loop->wq_async,
// moves every finished request from loop->wq to a list on its own stack and
// then runs their callbacks one after another. A fork() in one of them gives
// a child that goes on down that list: the parent's other callbacks ran
// again there (64 records written, 63 of them a second time by the child),
// and nothing outside that stack frame can reach the list. So the main loop's
// wq_async calls RunFinishedWork instead. It moves the batch to a list that
// the child can find (a Batch, chained from running_batches) and hands the
// requests to libuv's own uv__work_done one at a time, through a loop of
// its own (`solo`) whose wq holds that one request: uv__work_done finds its
// loop from the async handle it is given, takes its wq, and calls the
// request back with the status it computes (UV_ECANCELED for a cancelled
// one). Each request's callback uses the request's own loop, never that one.
// The one change seen from outside: uv_metrics_info's event count no longer
// counts a batch of n as n events (uv__work_done counts only batches > 1).
struct Batch {
  struct uv__queue requests;
  Batch* outer;  // a batch whose callback ran a nested loop, which ran this one
};
Batch* running_batches = nullptr;
uv_async_cb libuv_work_done = nullptr;
uv_loop_t solo;

void RunFinishedWork(uv_async_t* handle) {
  uv_loop_t* loop =
      reinterpret_cast<uv_loop_t*>(reinterpret_cast<char*>(handle) - offsetof(uv_loop_t, wq_async));
  Batch batch;
  uv_mutex_lock(&loop->wq_mutex);
  QueueMove(&loop->wq, &batch.requests);
  uv_mutex_unlock(&loop->wq_mutex);
  batch.outer = running_batches;
  running_batches = &batch;
  while (!QueueEmpty(&batch.requests)) {
    struct uv__queue* request = batch.requests.next;
    QueueRemove(request);
    uv_mutex_lock(&solo.wq_mutex);
    QueueInsertTail(&solo.wq, request);
    uv_mutex_unlock(&solo.wq_mutex);
    libuv_work_done(&solo.wq_async);
  }
  running_batches = batch.outer;
}

// libuv's count of the slow requests (getaddrinfo, getnameinfo) running on its
// pool (src/threadpool.c `slow_io_work_running`), null where it was not found.
// The pool runs a queued slow request only while fewer than half its threads
// run one. A child inherits the count of the parent's running lookups, and
// nothing in the child ever lowers it (libuv's fork handler re-creates the
// pool's threads, mutex and queues but keeps its counters): a child forked
// while two lookups ran never ran a lookup of its own (gdb: the request in
// slow_io_pending_wq, every pool thread idle). The counter is a static of
// libuv, which Node links into its executable; its address comes from the
// executable's symbol table, read once in the parent.
unsigned int* slow_io_work_running = nullptr;
bool thread_pool_counts_looked_up = false;

// The load address of the main executable (0 unless it is position-independent).
uintptr_t ExecutableBias() {
  uintptr_t bias = 0;
  dl_iterate_phdr(
      [](struct dl_phdr_info* info, size_t, void* out) {
        *static_cast<uintptr_t*>(out) = info->dlpi_addr;
        return 1;  // the first object is the executable
      },
      &bias);
  return bias;
}

// The address of the one local data object named `name` and `size` bytes long
// in /proc/self/exe's symbol table (.symtab), or null: no symbol table (a
// stripped executable), no such object, or more than one.
void* FindExecutableObject(const char* name, size_t size) {
  int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
  if (fd == -1) return nullptr;
  struct stat st;
  void* image = MAP_FAILED;
  if (fstat(fd, &st) == 0 && static_cast<size_t>(st.st_size) >= sizeof(Elf64_Ehdr)) {
    image = mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  }
  close(fd);
  if (image == MAP_FAILED) return nullptr;
  const auto* base = static_cast<const unsigned char*>(image);
  const size_t length = st.st_size;
  auto inside = [&](uint64_t offset, uint64_t bytes) {
    return offset <= length && bytes <= length - offset;
  };
  void* found = nullptr;
  int matches = 0;
  const auto* header = reinterpret_cast<const Elf64_Ehdr*>(base);
  if (memcmp(header->e_ident, ELFMAG, SELFMAG) == 0 && header->e_ident[EI_CLASS] == ELFCLASS64 &&
      header->e_shentsize == sizeof(Elf64_Shdr) &&
      inside(header->e_shoff, uint64_t{header->e_shnum} * sizeof(Elf64_Shdr))) {
    const auto* sections = reinterpret_cast<const Elf64_Shdr*>(base + header->e_shoff);
    for (unsigned i = 0; i < header->e_shnum; i++) {
      const Elf64_Shdr& symtab = sections[i];
      if (symtab.sh_type != SHT_SYMTAB || symtab.sh_link >= header->e_shnum) continue;
      const Elf64_Shdr& strtab = sections[symtab.sh_link];
      if (!inside(symtab.sh_offset, symtab.sh_size) || !inside(strtab.sh_offset, strtab.sh_size))
        continue;
      const auto* symbols = reinterpret_cast<const Elf64_Sym*>(base + symtab.sh_offset);
      const char* names = reinterpret_cast<const char*>(base + strtab.sh_offset);
      size_t name_length = strlen(name);
      for (size_t k = 0; k < symtab.sh_size / sizeof(Elf64_Sym); k++) {
        const Elf64_Sym& sym = symbols[k];
        if (ELF64_ST_TYPE(sym.st_info) != STT_OBJECT || sym.st_size != size) continue;
        if (sym.st_name + name_length >= strtab.sh_size) continue;
        if (memcmp(names + sym.st_name, name, name_length + 1) != 0) continue;
        found = reinterpret_cast<void*>(ExecutableBias() + sym.st_value);
        matches++;
      }
    }
  }
  munmap(image, length);
  return matches == 1 ? found : nullptr;
}

// In the child: its pool (re-created by libuv when first used) runs nothing yet.
void ResetThreadPoolCounts() {
  if (slow_io_work_running != nullptr) *slow_io_work_running = 0;
}

// Mirrors libuv's uv__loop_alive (src/unix/core.c), less our own prepare
// handle and the requests inherited from the parent: whether Node would now
// leave uv_run() and begin its teardown.
bool LoopIdle(uv_loop_t* loop) {
  return loop->active_handles <= 1 && loop->active_reqs.count <= child->inherited_reqs &&
         loop->closing_handles == nullptr && QueueEmpty(&loop->pending_queue);
}

void OnPrepare(uv_prepare_t* handle) {
  uv_loop_t* loop = handle->loop;
  // A kept handle's request can still finish here; never count below it.
  child->inherited_reqs = std::min(child->inherited_reqs, loop->active_reqs.count);
  if (!LoopIdle(loop)) return;
  // What Node does once uv_run() returns (node.h, SpinEventLoop's step 2):
  // DrainTasks. It waits for V8's background tasks, here on the child's pool
  // (child_platform.cc), and runs the foreground tasks they post, such as the
  // steps of an async WebAssembly compile, until none is left. One difference:
  // it stops after a few rounds in which the pool ran nothing. Some foreground
  // tasks post themselves again for as long as a background job they wait for
  // is unfinished (cppgc's incremental sweeper), and a job the parent started
  // never finishes here: such a child spun for ever in Node's loop.
  uint64_t finished = WaitForChildPlatform();
  for (int idle_rounds = 0; idle_rounds < kForegroundOnlyRounds && LoopIdle(loop);) {
    if (!child->platform->FlushForegroundTasks(child->isolate)) break;
    uint64_t now = WaitForChildPlatform();
    idle_rounds = now == finished ? idle_rounds + 1 : 0;
    finished = now;
  }
  if (!LoopIdle(loop)) return;
  // Then Node's own natural end (SpinEventLoop's steps 4 and 6): 'beforeExit';
  // if it scheduled nothing, 'exit', in which Node 22 and later also give
  // status 13 to an unsettled top-level await (src/api/hooks.cc
  // EmitProcessExitInternal). A listener that throws ends the process as an
  // uncaught exception, through the exit handler below.
  if (node::EmitProcessBeforeExit(child->node_env).IsNothing()) return;
  if (!LoopIdle(loop)) return;
  int code = node::EmitProcessExit(child->node_env).FromMaybe(kSetupFailed);
  fflush(nullptr);
  _exit(code);
}

// Gives the child a file description of its own for a pipe on `fd`, so that
// making it blocking (and every later write) leaves the parent's alone.
bool ReopenPipe(int fd) {
  struct stat st;
  if (fstat(fd, &st) == -1 || !S_ISFIFO(st.st_mode)) return false;
  int flags = fcntl(fd, F_GETFL);
  if (flags == -1 || (flags & O_ACCMODE) == O_RDONLY) return false;
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  // O_NONBLOCK: fail with ENXIO rather than wait when no reader is left.
  int copy = open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (copy == -1) return false;
  fcntl(copy, F_SETFL, fcntl(copy, F_GETFL) & ~O_NONBLOCK);
  bool ok = dup2(copy, fd) != -1;
  close(copy);
  return ok;
}

[[noreturn]] void Die(const char* what, int err) {
  dprintf(2, "bidirectional-ipc: forked child cannot continue: %s: %s\n", what, strerror(err));
  _exit(kSetupFailed);
}

// Drops the parent's finished thread-pool work whose callbacks had not run
// (loop->wq, filled by the pool's threads and emptied by uv__work_done in
// src/threadpool.c). Each entry holds one count in loop->active_reqs.
void DropFinishedWork(uv_loop_t* loop) {
  unsigned int dropped = 0;
  for (struct uv__queue* q = loop->wq.next; q != &loop->wq;) {
    struct uv__queue* next = q->next;
    QueueInit(q);
    q = next;
    dropped++;
  }
  QueueInit(&loop->wq);
  loop->active_reqs.count -= dropped;
  // The rest of the batch that fork() was called from (RunFinishedWork): its
  // requests stay counted in loop->active_reqs, as the pool's running ones do.
  for (Batch* batch = running_batches; batch != nullptr; batch = batch->outer) {
    QueueInit(&batch->requests);
  }
}

// Takes a watcher out of the child's loop, as libuv's uv__io_stop and
// uv__io_close (src/unix/core.c) do. uv_loop_fork has queued every watcher
// for registration with the child's new epoll; a watcher removed from that
// queue is never registered, so nothing of it reaches the kernel.
void StopWatcher(uv_loop_t* loop, uv__io_t* w) {
  QueueRemove(&w->watcher_queue);
  QueueRemove(&w->pending_queue);
  w->pevents = 0;
  w->events = 0;
  if (w->fd >= 0 && static_cast<unsigned int>(w->fd) < loop->nwatchers &&
      loop->watchers[w->fd] == w) {
    loop->watchers[w->fd] = nullptr;
    loop->nfds--;
  }
}

// `h` as a stream if it is a pipe, TTY or TCP handle on one of `fds`, else null.
uv_stream_t* StreamOn(uv_handle_t* h, const std::vector<int>& fds) {
  if (h->type != UV_NAMED_PIPE && h->type != UV_TTY && h->type != UV_TCP) return nullptr;
  uv_os_fd_t fd;
  if (uv_fileno(h, &fd) != 0) return nullptr;
  if (std::find(fds.begin(), fds.end(), fd) == fds.end()) return nullptr;
  return reinterpret_cast<uv_stream_t*>(h);
}

struct Detach {
  const std::vector<int>* keep;
  int dead_end;  // InertSocket()
  // The process handles on loop->process_handles, the ones libuv still waits for.
  std::unordered_set<const struct uv__queue*> waited_for;
};

uv__io_t* WatcherOf(uv_handle_t* h) {
  switch (h->type) {
    case UV_TCP:
    case UV_NAMED_PIPE:
    case UV_TTY:
      return &reinterpret_cast<uv_stream_t*>(h)->io_watcher;
    case UV_UDP:
      return &reinterpret_cast<uv_udp_t*>(h)->io_watcher;
    case UV_POLL:
      return &reinterpret_cast<uv_poll_t*>(h)->io_watcher;
    default:
      return nullptr;
  }
}

// Whether `h` is the terminal stream of stdout or stderr. libuv opens a
// terminal anew for a TTY stream and dup2()s that description onto the
// original descriptor (src/unix/tty.c uv_tty_init), so the stream's fd is
// neither 1 nor 2 but shares 1's or 2's open file description: kcmp(2)
// KCMP_FILE tells. Where kcmp is refused (a kernel without it, a seccomp
// filter), a stream on the same terminal that is not being read stands in
// (stdin's stream, which is read, stays detached).
bool IsStdoutOrStderrTerminal(uv_handle_t* h, uv__io_t* w) {
  if (h->type != UV_TTY) return false;
  constexpr int kKcmpFile = 0;  // KCMP_FILE, linux/kcmp.h
  pid_t self = getpid();
  struct stat handle_file, stdio_file;
  bool same_terminal = false;
  for (int stdio : {1, 2}) {
    long order = syscall(SYS_kcmp, self, self, kKcmpFile, w->fd, stdio);
    if (order == 0) return true;
    if (order == -1 && fstat(w->fd, &handle_file) == 0 && fstat(stdio, &stdio_file) == 0 &&
        handle_file.st_rdev == stdio_file.st_rdev && handle_file.st_ino == stdio_file.st_ino)
      same_terminal = true;
  }
  return same_terminal && (w->pevents & POLLIN) == 0;
}

void DetachHandle(uv_handle_t* h, void* arg) {
  auto* detach = static_cast<Detach*>(arg);
  switch (h->type) {
    case UV_ASYNC:
      // Other threads wake this loop through these; those threads are gone.
      uv_unref(h);
      return;
    case UV_PROCESS: {
      // libuv's SIGCHLD handler reaps the processes on loop->process_handles
      // (src/unix/process.c uv__wait_children); the child must not. That
      // function first moves every process it reaped to a list on its stack,
      // then calls each one's exit_cb, having already stepped to the next: a
      // fork() in one of those callbacks leaves the others on that list, and
      // the child went on calling them (Node's onexit then threw reading
      // 'close' of a handle already closed). They stay on the list, so that
      // libuv's walk of it ends, and call nothing.
      auto* process = reinterpret_cast<uv_process_t*>(h);
      if (detach->waited_for.count(&process->queue) != 0) QueueRemove(&process->queue);
      process->exit_cb = nullptr;
      process->pid = kNoSuchPid;
      uv_unref(h);
      return;
    }
    case UV_FS_EVENT:
      // uv_loop_fork re-created the inotify watches in the child.
      uv_fs_event_stop(reinterpret_cast<uv_fs_event_t*>(h));
      uv_unref(h);
      return;
    case UV_FS_POLL: {
      // Node keeps one StatWatcher per file for all of fs.watchFile's
      // listeners; fork.ts unwatches these files in the child, so that the
      // child's own fs.watchFile of one gets a watcher that runs.
      auto* poll = reinterpret_cast<uv_fs_poll_t*>(h);
      char path[PATH_MAX];
      size_t size = sizeof path;
      if (uv_fs_poll_getpath(poll, path, &size) == 0) inherited_stat_paths.emplace_back(path, size);
      uv_fs_poll_stop(poll);
      uv_unref(h);
      return;
    }
    default:
      break;
  }
  uv__io_t* w = WatcherOf(h);
  if (w == nullptr || w->fd < 0 || w->fd == 1 || w->fd == 2) return;
  if (IsStdoutOrStderrTerminal(h, w)) return;
  const std::vector<int>& keep = *detach->keep;
  if (std::find(keep.begin(), keep.end(), w->fd) != keep.end()) return;
  StopWatcher(h->loop, w);
  uv_unref(h);
  // The descriptor now names an inert socket (stdin too, once the parent's
  // program has opened it: its bytes are the parent's). The parent's
  // connection, port or channel is no longer held by the child.
  if (dup3(detach->dead_end, w->fd, O_CLOEXEC) == -1) Die("dup3", errno);
}

// One end of a socket pair that is never readable (its peer stays open and
// silent) and refuses writes (EPIPE): if the child's copy of a detached
// stream is used after all (a 'data' listener's pending resume, say), no
// event arrives, so none of the parent's stream handlers runs in the child.
// Non-blocking: libuv reads a stream again after a read that filled its
// buffer (src/unix/stream.c uv__read; a UDP socket up to 32 datagrams,
// src/unix/udp.c), so a fork() in a 'data' or 'message' listener is followed,
// in the child, by a read of this socket: it must say EAGAIN (libuv then waits
// for an event that never comes), not block (30 children in 50 hung).
int InertSocket() {
  int ends[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, ends) == -1)
    Die("socketpair", errno);
  if (shutdown(ends[0], SHUT_WR) == -1) Die("shutdown", errno);
  static int silent_peer = -1;  // one per process, kept for its whole life
  if (silent_peer != -1) close(silent_peer);
  silent_peer = ends[1];
  return ends[0];
}

// What a Pipe's setBlocking(true) does (Node's stream_wrap.cc), for the
// stdout/stderr streams the parent had already created. Their descriptor now
// names a blocking file description (ReopenPipe), so a write finishes in the
// kernel; the flag also makes libuv finish a write that a signal cut short
// instead of queuing the rest for a loop turn that _exit(2) may not give. A
// stream first created in the child gets the same from fork.ts.
void BlockStdioStreams(uv_loop_t* loop) {
  uv_walk(
      loop,
      [](uv_handle_t* h, void*) {
        uv_stream_t* stream = StreamOn(h, reopened_stdio);
        if (stream != nullptr && h->type == UV_NAMED_PIPE) uv_stream_set_blocking(stream, 1);
      },
      nullptr);
}

// The listening sockets that another thread's event loop watches (the
// inspector's server, on its own loop and thread; a Worker's server): those
// registered with an epoll instance other than `own_epoll`, less `keep_fds`.
// /proc/PID/fdinfo of an epoll descriptor lists each registered descriptor
// ("tfd:", proc(5)). A listening socket that no loop watches (a descriptor the
// program holds for its children, as OwnedFd.fromServer makes) is not one.
std::vector<int> OtherLoopsListeners(int own_epoll, const std::vector<int>& keep_fds) {
  std::vector<int> listening;
  DIR* fds = opendir("/proc/self/fd");
  if (fds == nullptr) return listening;  // no /proc: fork() has refused before this
  std::vector<int> epolls;
  while (struct dirent* entry = readdir(fds)) {
    if (entry->d_name[0] == '.') continue;
    int fd = atoi(entry->d_name);
    if (fd == own_epoll || fd == dirfd(fds)) continue;
    char target[32];
    std::string link = std::string("/proc/self/fd/") + entry->d_name;
    ssize_t length = readlink(link.c_str(), target, sizeof target - 1);
    if (length <= 0) continue;
    target[length] = '\0';
    if (strcmp(target, "anon_inode:[eventpoll]") == 0) epolls.push_back(fd);
  }
  closedir(fds);
  for (int epoll : epolls) {
    std::string info_path = "/proc/self/fdinfo/" + std::to_string(epoll);
    FILE* info = fopen(info_path.c_str(), "re");
    if (info == nullptr) continue;
    char line[256];
    while (fgets(line, sizeof line, info) != nullptr) {
      int fd;
      if (sscanf(line, "tfd: %d", &fd) != 1) continue;
      int accepting = 0;
      socklen_t size = sizeof accepting;
      if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &size) != 0 || !accepting) continue;
      if (std::find(keep_fds.begin(), keep_fds.end(), fd) != keep_fds.end()) continue;
      if (std::find(listening.begin(), listening.end(), fd) == listening.end())
        listening.push_back(fd);
    }
    fclose(info);
  }
  return listening;
}

// Those listening sockets' threads are not in the child, but their
// descriptors were: after the parent's inspector.close() its port still
// accepted connections for as long as a child lived. Each is replaced by the
// inert socket too, unless the program named it in `keep`.
void DetachOtherLoopsListeners(uv_loop_t* loop, const std::vector<int>& keep_fds, int dead_end) {
  for (int fd : OtherLoopsListeners(loop->backend_fd, keep_fds)) {
    if (dup3(dead_end, fd, O_CLOEXEC) == -1) Die("dup3", errno);
  }
}

void DetachInherited(uv_loop_t* loop, const std::vector<int>& keep_fds) {
  inherited_stat_paths.clear();
  Detach detach{&keep_fds, InertSocket(), {}};
  for (struct uv__queue* q = loop->process_handles.next; q != &loop->process_handles; q = q->next) {
    detach.waited_for.insert(q);
  }
  uv_walk(loop, DetachHandle, &detach);
  DetachOtherLoopsListeners(loop, keep_fds, detach.dead_end);
  close(detach.dead_end);
}

}  // namespace

void SetUpChild(napi_env env, node::Environment* node_env, node::MultiIsolatePlatform* platform,
                const std::vector<int>& keep_fds) {
  uv_loop_t* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) Die("napi_get_uv_event_loop", EINVAL);
  // fork.cc held this mutex across fork(2) so that no pool thread was half-way
  // through adding to loop->wq; the thread that holds it here is gone, and
  // libuv's mutexes check their owner in Node's builds.
  if (uv_mutex_init(&loop->wq_mutex) != 0) Die("uv_mutex_init", EINVAL);
  int r = uv_loop_fork(loop);
  if (r != 0) Die("uv_loop_fork", -r);
  DropFinishedWork(loop);
  ResetThreadPoolCounts();
  DetachInherited(loop, keep_fds);
  if (!AdoptPlatformInChild(platform)) Die("mprotect (the platform's vtable)", errno);

  reopened_stdio.clear();
  for (int fd : {1, 2}) {
    if (ReopenPipe(fd)) reopened_stdio.push_back(fd);
  }
  BlockStdioStreams(loop);

  node::SetProcessExitHandler(node_env, [](node::Environment*, int code) {
    fflush(nullptr);
    _exit(code);
  });

  if (child == nullptr) {
    child = new Child();
    child->node_env = node_env;
    child->isolate = v8::Isolate::GetCurrent();
    child->platform = platform;
    uv_prepare_init(loop, &child->idle_check);
    uv_prepare_start(&child->idle_check, OnPrepare);
  }
  // A child of a child keeps the prepare handle it inherited.
  child->inherited_reqs = loop->active_reqs.count;
}

bool HasOtherLoopsListeners(uv_loop_t* loop, const std::vector<int>& keep_fds) {
  return !OtherLoopsListeners(loop->backend_fd, keep_fds).empty();
}

bool FileRequestsOnIoUring() {
  // Found by the ring itself, not by UV_USE_IO_URING: Node 20.4 to 20.11.0 make one by default.
  DIR* fds = opendir("/proc/self/fd");
  if (fds == nullptr) return false;
  bool found = false;
  while (struct dirent* entry = readdir(fds)) {
    if (found || entry->d_name[0] == '.') continue;
    std::string fd_path = std::string("/proc/self/fd/") + entry->d_name;
    char target[64];
    ssize_t length = readlink(fd_path.c_str(), target, sizeof target - 1);
    if (length <= 0) continue;
    target[length] = '\0';
    if (strcmp(target, "anon_inode:[io_uring]") != 0) continue;
    // fdinfo's "SqThread:" names the ring's kernel submission thread, -1 for none.
    std::string info_path = std::string("/proc/self/fdinfo/") + entry->d_name;
    FILE* info = fopen(info_path.c_str(), "re");
    if (info == nullptr) continue;
    char line[128];
    while (fgets(line, sizeof line, info) != nullptr) {
      int thread;
      if (sscanf(line, "SqThread: %d", &thread) == 1 && thread != -1) found = true;
    }
    fclose(info);
  }
  closedir(fds);
  return found;
}

void RunFinishedWorkOneByOne(napi_env env) {
  uv_loop_t* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop != uv_default_loop()) return;
  if (loop->wq_async.async_cb == RunFinishedWork) return;
  if (libuv_work_done == nullptr && uv_mutex_init(&solo.wq_mutex) != 0) return;
  QueueInit(&solo.wq);
  libuv_work_done = loop->wq_async.async_cb;
  loop->wq_async.async_cb = RunFinishedWork;
}

void PrepareChildThreadPool() {
  if (thread_pool_counts_looked_up) return;
  thread_pool_counts_looked_up = true;
  slow_io_work_running = static_cast<unsigned int*>(
      FindExecutableObject("slow_io_work_running", sizeof(unsigned int)));
}

size_t QueuedWriteBytes(uv_loop_t* loop, const std::vector<int>& fds) {
  struct Sum {
    const std::vector<int>* fds;
    size_t bytes;
  } sum{&fds, 0};
  uv_walk(
      loop,
      [](uv_handle_t* h, void* arg) {
        auto* s = static_cast<Sum*>(arg);
        if (uv_stream_t* stream = StreamOn(h, *s->fds))
          s->bytes += uv_stream_get_write_queue_size(stream);
      },
      &sum);
  return sum.bytes;
}

// The stdio descriptors that the child re-opened, [] in a process that is not a forked child.
Napi::Value ChildStdioReopened(const Napi::CallbackInfo& info) {
  Napi::Array fds = Napi::Array::New(info.Env(), reopened_stdio.size());
  for (size_t i = 0; i < reopened_stdio.size(); i++) {
    fds.Set(i, Napi::Number::New(info.Env(), reopened_stdio[i]));
  }
  return fds;
}

// The files whose fs.watchFile watchers the child inherited and stopped, [] in
// a process that is not a forked child.
Napi::Value ChildInheritedWatchedFiles(const Napi::CallbackInfo& info) {
  Napi::Array paths = Napi::Array::New(info.Env(), inherited_stat_paths.size());
  for (size_t i = 0; i < inherited_stat_paths.size(); i++) {
    paths.Set(i, Napi::String::New(info.Env(), inherited_stat_paths[i]));
  }
  return paths;
}

// prctl(2) PR_SET_PDEATHSIG: the kernel sends `signal` to this process when
// the thread that created it ends. The fork server sets it for itself and in
// each child it forks, so that neither outlives its parent, even one killed
// with SIGKILL or one too busy to notice (src/forkserver/server-main.ts).
Napi::Value SetParentDeathSignal(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber() || info[0].As<Napi::Number>().Int32Value() < 0)
    throw Napi::TypeError::New(info.Env(), "signal must be an integer >= 0");
  int sig = info[0].As<Napi::Number>().Int32Value();
  if (prctl(PR_SET_PDEATHSIG, sig) == -1) throw ErrnoError(info.Env(), errno, "prctl");
  return info.Env().Undefined();
}

}  // namespace ipc

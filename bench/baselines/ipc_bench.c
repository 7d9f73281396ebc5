/* C baselines for `npm run bench`: the same work as the Node cases, in C.
 *   ipc_bench pingpong N [BYTES]  a BYTES-byte message (default 16) and its echo between
 *                                 parent and forked child, N times
 *   ipc_bench bulk BYTES   BYTES from parent to child in 64 KiB writes, sequence-checked
 *   ipc_bench percall N    1-byte write then 1-byte read on one pipe in one process, N times
 * Prints {"seconds": S} for the timed part only. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void full_write(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t k = write(fd, p, n);
    if (k <= 0) { perror("write"); exit(1); }
    p += k; n -= k;
  }
}

static size_t full_read(int fd, char *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t k = read(fd, p + got, n - got);
    if (k < 0) { perror("read"); exit(1); }
    if (k == 0) break;
    got += k;
  }
  return got;
}

int main(int argc, char **argv) {
  if (argc < 3) return 2;
  const char *mode = argv[1];
  long long n = atoll(argv[2]);
  int down[2], up[2];
  if (pipe(down) || pipe(up)) return 1;
  double start, end;
  if (strcmp(mode, "pingpong") == 0) {
    enum { DEFAULT_MESSAGE = 16, MAX_MESSAGE = 65536 };
    static char buf[MAX_MESSAGE];
    size_t size = argc > 3 ? (size_t)atoll(argv[3]) : DEFAULT_MESSAGE;
    if (size == 0 || size > MAX_MESSAGE) return 2;
    pid_t pid = fork();
    if (pid == 0) {
      for (long long i = 0; i < n; i++) { full_read(down[0], buf, size); full_write(up[1], buf, size); }
      _exit(0);
    }
    memset(buf, 'p', size);
    start = now();
    for (long long i = 0; i < n; i++) { full_write(down[1], buf, size); full_read(up[0], buf, size); }
    end = now();
    waitpid(pid, NULL, 0);
  } else if (strcmp(mode, "bulk") == 0) {
    enum { CHUNK = 65536 };
    static char buf[CHUNK];
    long long chunks = n / CHUNK;
    pid_t pid = fork();
    if (pid == 0) {
      close(down[1]);
      for (long long i = 0; i < chunks; i++) {
        if (full_read(down[0], buf, CHUNK) != CHUNK) _exit(3);
        uint64_t seq; memcpy(&seq, buf, 8);
        if (seq != (uint64_t)i) _exit(4);
      }
      _exit(0);
    }
    close(down[0]);
    memset(buf, 'b', CHUNK);
    start = now();
    for (long long i = 0; i < chunks; i++) { uint64_t seq = i; memcpy(buf, &seq, 8); full_write(down[1], buf, CHUNK); }
    close(down[1]);
    int status;
    waitpid(pid, &status, 0);
    end = now();
    if (status != 0) { fprintf(stderr, "bulk: child status %d\n", status); return 1; }
  } else if (strcmp(mode, "percall") == 0) {
    char c = 'x';
    start = now();
    for (long long i = 0; i < n; i++) { full_write(down[1], &c, 1); full_read(down[0], &c, 1); }
    end = now();
  } else {
    return 2;
  }
  printf("{\"seconds\": %.9f}\n", end - start);
  return 0;
}

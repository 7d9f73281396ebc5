// Test helper, not part of the package's API: interrupts the calling thread
// with SIGALRM every `interval` microseconds through a handler installed
// without SA_RESTART, so that blocking system calls fail with EINTR instead of
// being restarted by the kernel. Node's own signal handlers use SA_RESTART,
// which would hide a missing EINTR retry.
//
// Man pages: sigaction(2), timer_create(2) (SIGEV_THREAD_ID), timer_settime(2).
#include <napi.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>

namespace {

std::atomic<unsigned long> delivered{0};
struct sigaction previous;
timer_t timer;
bool running = false;
pid_t owner = 0;  // a forked child inherits the flag but not the timer

void OnAlarm(int) {
  delivered++;
}

Napi::Value Start(const Napi::CallbackInfo& info) {
  if (running && owner == getpid()) throw Napi::Error::New(info.Env(), "already interrupting");
  long interval_us = info[0].As<Napi::Number>().Int64Value();
  struct sigaction action = {};
  action.sa_handler = OnAlarm;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: interrupted calls fail with EINTR
  sigaction(SIGALRM, &action, &previous);
  struct sigevent event = {};
  event.sigev_notify = SIGEV_THREAD_ID;  // this thread, not any thread of the process
  event.sigev_signo = SIGALRM;
  event._sigev_un._tid = static_cast<pid_t>(syscall(SYS_gettid));
  if (timer_create(CLOCK_MONOTONIC, &event, &timer) == -1) {
    throw Napi::Error::New(info.Env(), "timer_create failed");
  }
  struct itimerspec spec = {};
  spec.it_interval.tv_nsec = interval_us * 1000;
  spec.it_value.tv_nsec = interval_us * 1000;
  timer_settime(timer, 0, &spec, nullptr);
  delivered = 0;
  running = true;
  owner = getpid();
  return info.Env().Undefined();
}

// Stops the timer, restores the previous handler; returns how many signals arrived.
Napi::Value Stop(const Napi::CallbackInfo& info) {
  if (running && owner == getpid()) {
    timer_delete(timer);
    sigaction(SIGALRM, &previous, nullptr);
    running = false;
  }
  return Napi::Number::New(info.Env(), static_cast<double>(delivered.load()));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("start", Napi::Function::New(env, Start, "start"));
  exports.Set("stop", Napi::Function::New(env, Stop, "stop"));
  return exports;
}

}  // namespace

NODE_API_MODULE(test_signals, Init)

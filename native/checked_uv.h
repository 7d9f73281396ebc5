// The libuv minor versions (1.x) whose private fields and uv_loop_fork
// behaviour child.cc was checked against. Checked at run time by the first
// fork() (src/native.ts), not at compile time: a newer libuv then costs
// fork() alone, never the install or the other calls.
#pragma once

namespace ipc {

constexpr int kCheckedUvMinorFirst = 46;
constexpr int kCheckedUvMinorLast = 52;

}  // namespace ipc

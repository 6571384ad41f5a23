// Exit statuses shared by the workload programs, so the harness can tell a failed
// check from bad input and from a run that could not take place.
#pragma once

namespace nozero {

inline constexpr int kExitOk = 0;
// The measured property failed: smiffy found a non-zero page, ebizzy-nz missed a key.
inline constexpr int kExitCheckFailed = 1;
// Bad command line: an invalid value, incompatible options, a size beyond MemAvailable.
inline constexpr int kExitUsage = 2;
// The run failed: a system call or a child process failed.
inline constexpr int kExitRunFailed = 3;

}  // namespace nozero

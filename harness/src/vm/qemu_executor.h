// Executor that boots the guest kernel under QEMU.
//
// In the guest the host root is mounted read-only over 9p at / under an overlay
// whose upper layer is a tmpfs, so / is writable and nothing reaches the host;
// VmConfig::share_dir is mounted read-write (9p) at its host path; /proc, /sys,
// /dev, /dev/pts, /dev/shm, /sys/kernel/tracing and /sys/kernel/debug are mounted.
// The command runs as GuestCommand::uid/gid with PATH, HOME, USER, LOGNAME, SHELL,
// LANG and TERM set, stdin on /dev/null, and its stdout and stderr relayed to the
// host while it runs. The kernel console (ttyS0) goes to VmConfig::console_log.
#pragma once

#include <filesystem>
#include <optional>

#include "vm/executor.h"

namespace nozero::vm {

// Exit statuses of `vm exec` when the command did not produce one, chosen like
// timeout(1) and env(1) so they do not collide with common command statuses.
inline constexpr int kExitGuestTimeout = 124;
inline constexpr int kExitGuestFailure = 125;

class QemuExecutor : public Executor {
 public:
  ExecResult run(const VmConfig& config, const GuestCommand& command,
                 const OutputSink& output) override;
  ExecResult run_streams(const VmConfig& config, const GuestCommand& command,
                         const OutputStreams& streams) override;
};

// nozero-guest-init: `requested` if set, else next to the running executable,
// else the one of this build tree. Throws CommandError if none exists.
std::filesystem::path find_guest_init(const std::filesystem::path& requested = {});

// The newest cached build of the patched kernel in `cache_dir` (empty: the default
// cache). Throws CommandError telling the user to run `nozero-bench kernel build`.
std::filesystem::path default_kernel_image(const std::filesystem::path& cache_dir = {});

// A fresh console log path under the nozero-bench cache.
std::filesystem::path default_console_log();

// "Kernel panic - not syncing: ..." from a console log, if the guest panicked.
std::optional<std::string> find_kernel_panic(const std::string& console_text);

// The last `count` lines of a console log, indented, for error messages.
std::string console_tail(const std::filesystem::path& console_log, std::size_t count);

}  // namespace nozero::vm

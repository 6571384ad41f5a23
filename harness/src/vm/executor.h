// Interface between the harness and whatever runs a command in a booted guest.
//
// QemuExecutor boots a kernel under QEMU; tests of scheduling, statistics and
// reports use a fake that never boots. A command runs with the host root file
// system visible read-only at / (writes go to a tmpfs overlay) and with
// VmConfig::share_dir mounted read-write at the same absolute path as on the host,
// so one script runs unchanged on the host and in the guest.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace nozero::vm {

enum class Accelerator { automatic, kvm, tcg };

std::string_view to_string(Accelerator accelerator);

struct VmConfig {
  std::filesystem::path kernel_image;
  unsigned cpus = 2;
  std::uint64_t memory_mib = 2048;
  // Transparent huge pages: "never", "madvise" or "always" (kernel command line).
  std::string thp = "madvise";
  std::vector<std::string> extra_cmdline;
  // Host directory mounted read-write in the guest at the same path.
  std::filesystem::path share_dir;
  // Where the guest's kernel console (ttyS0) is written; kept after failures.
  std::filesystem::path console_log;
  Accelerator accelerator = Accelerator::automatic;
  // Wall-clock limit for boot, command and power-off together.
  std::chrono::seconds timeout{600};
};

struct GuestCommand {
  std::vector<std::string> argv;
  unsigned uid = 0;
  unsigned gid = 0;
  std::map<std::string, std::string> env;
  std::filesystem::path cwd = "/";
};

struct ExecResult {
  // Exit status of the command: 0 to 255, or 128 + signal number.
  int exit_status = -1;
  bool timed_out = false;
  // Empty when the guest booted, ran the command and powered off.
  std::string error;
  // The accelerator that was used, and why (for example "KVM probe boot hung").
  Accelerator accelerator = Accelerator::tcg;
  std::string accelerator_reason;
  std::string kernel_release;
  std::string kernel_cmdline;
  std::filesystem::path console_log;
  double boot_s = 0;
  double command_s = 0;
};

// Receives the command's stdout and stderr as they arrive.
using OutputSink = std::function<void(std::string_view chunk)>;

class Executor {
 public:
  virtual ~Executor() = default;
  virtual ExecResult run(const VmConfig& config, const GuestCommand& command,
                         const OutputSink& output) = 0;
};

}  // namespace nozero::vm

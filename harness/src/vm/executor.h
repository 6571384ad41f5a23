// Interface between the harness and whatever runs a command in a booted guest.
//
// QemuExecutor boots a kernel under QEMU; tests of scheduling, statistics and
// reports use a fake that never boots. A command runs with the host root file
// system visible read-only at / (writes go to a tmpfs overlay) and with
// VmConfig::share_dir mounted read-write at the same absolute path as on the host,
// so one script runs unchanged on the host and in the guest.
#pragma once

#include <atomic>
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
  // The static init program put in the initramfs; empty: nozero-guest-init next
  // to the running executable, then the one of this build tree.
  std::filesystem::path guest_init;
  // The QEMU binary.
  std::string qemu = "qemu-system-x86_64";
  // Where the result of the KVM probe is cached; empty: the nozero-bench cache.
  std::filesystem::path kvm_probe_cache;
  // Receives the guest's kernel console as it is written, for example to mirror
  // it on a terminal; it always goes to console_log as well.
  std::function<void(std::string_view chunk)> console_sink;
  // Receives one-line status messages of the executor, such as the accelerator
  // it chose and why.
  std::function<void(const std::string& line)> status_sink;
  // When it becomes true (a SIGINT or SIGTERM handler sets it), the executor stops
  // the guest within a fraction of a second and returns with an error saying so.
  const std::atomic<bool>* stop_requested = nullptr;
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
  // Wall-clock seconds on the host from QEMU's start to the command's start, and
  // of the command itself; under TCG these are emulated-CPU times.
  double boot_s = 0;
  double command_s = 0;
  // The QEMU command line, for reproducing a run by hand.
  std::vector<std::string> qemu_argv;
};

// Receives the command's stdout and stderr as they arrive.
using OutputSink = std::function<void(std::string_view chunk)>;

// Separate receivers for stdout and stderr; an empty one drops its stream.
struct OutputStreams {
  OutputSink stdout_sink;
  OutputSink stderr_sink;
};

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs the command; `output` receives stdout and stderr interleaved in the
  // order the guest produced them.
  virtual ExecResult run(const VmConfig& config, const GuestCommand& command,
                         const OutputSink& output) = 0;
  // Runs the command with stdout and stderr kept apart, so stdout can carry a
  // machine-readable document. The default, for executors that cannot separate
  // them, sends both streams to stdout_sink.
  virtual ExecResult run_streams(const VmConfig& config, const GuestCommand& command,
                                 const OutputStreams& streams) {
    return run(config, command, [&streams](std::string_view chunk) {
      if (streams.stdout_sink) streams.stdout_sink(chunk);
    });
  }
};

}  // namespace nozero::vm

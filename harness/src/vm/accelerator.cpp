#include "vm/accelerator.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/files.h"
#include "core/process.h"
#include "vm/qemu_executor.h"

namespace nozero::vm {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kCacheSchema = "nozero-bench/kvm-probe";

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// Appends what follows from KVM being unusable to a probe's reason.
std::string fall_back_to_tcg(std::string reason) {
  while (!reason.empty() && reason.back() == '.') reason.pop_back();
  return reason + ", so guests run under TCG";
}

}  // namespace

ProbeResult probe_firmware_boot(const std::string& qemu, Accelerator accelerator,
                                std::chrono::milliseconds timeout) {
  TempDirectory directory("nozero-probe");
  auto log = directory.path() / "firmware.log";
  // The same accelerator options and CPU model as qemu_argv() gives real guests.
  bool kvm = accelerator == Accelerator::kvm;
  std::vector<std::string> argv = {qemu, "-nodefaults", "-no-user-config", "-display", "none",
                                   "-no-reboot", "-m", "64", "-accel",
                                   kvm ? "kvm" : "tcg,thread=multi", "-cpu", kvm ? "host" : "max",
                                   "-chardev", "file,id=firmware,path=" + log.string(), "-device",
                                   "isa-debugcon,iobase=0x402,chardev=firmware"};
  const std::string name = accelerator == Accelerator::kvm ? "KVM" : "TCG";

  auto started = Clock::now();
  SpawnOptions spawn;
  spawn.stdout_mode = Stream::null;
  ChildProcess child(argv, spawn);
  ProbeResult result;
  for (;;) {
    result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    std::ifstream input(log);
    std::string text{std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>()};
    // SeaBIOS prints "Booting from ..." (or "No bootable device") when POST is done.
    if (text.find("Booting from") != std::string::npos ||
        text.find("No bootable device") != std::string::npos) {
      result.usable = true;
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.2f", result.seconds);
      result.reason = "a " + name + " probe guest got through its firmware in " + seconds +
                      " s (firmware-only probe: no kernel is built yet)";
      break;
    }
    if (auto status = child.try_wait()) {
      std::string errors;
      char buffer[4096];
      ssize_t got;
      while ((got = ::read(child.stderr_fd(), buffer, sizeof buffer)) > 0)
        errors.append(buffer, static_cast<size_t>(got));
      result.reason = "the " + name + " probe guest failed to start (QEMU exit status " +
                      std::to_string(*status) + "): " + first_line(errors);
      break;
    }
    if (Clock::now() - started >= timeout) {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.1f", static_cast<double>(timeout.count()) / 1000);
      result.reason = "a " + name + " probe guest did not get through its firmware within " +
                      seconds + " s (a usable accelerator needs well under a second)";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  child.kill(SIGKILL);
  child.wait();
  return result;
}

ProbeResult probe_kernel_boot(const VmConfig& config, Accelerator accelerator,
                              std::chrono::milliseconds timeout) {
  TempDirectory directory("nozero-probe");
  VmConfig probe;
  probe.kernel_image = config.kernel_image;
  probe.guest_init = config.guest_init;
  probe.qemu = config.qemu;
  probe.cpus = 1;
  probe.memory_mib = 256;
  probe.accelerator = accelerator;
  probe.console_log = directory.path() / "console.log";
  probe.timeout = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  GuestCommand command;
  command.argv = {"/bin/true"};

  const std::string name = accelerator == Accelerator::kvm ? "KVM" : "TCG";
  auto started = Clock::now();
  auto run = QemuExecutor{}.run(probe, command, nullptr);
  ProbeResult result;
  result.kind = ProbeKind::kernel_boot;
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.2f", result.seconds);
  if (run.error.empty() && run.exit_status == 0) {
    result.usable = true;
    result.reason = "a " + name + " probe boot of " + run.kernel_release + " ran /bin/true in " +
                    seconds + " s";
  } else {
    // The first clause of the executor's error, without the console log part.
    std::string why = run.error.empty() ? "/bin/true exited with status " +
                                              std::to_string(run.exit_status)
                                        : run.error.substr(0, run.error.find("; console log"));
    result.reason = "a " + name + " probe boot failed after " + seconds + " s: " + why;
  }
  return result;
}

std::string probe_host_identity(const std::string& qemu) {
  std::string boot_id;
  std::ifstream input("/proc/sys/kernel/random/boot_id");
  std::getline(input, boot_id);
  utsname names{};
  ::uname(&names);
  std::string qemu_version = "unknown";
  try {
    RunOptions options;
    options.timeout = std::chrono::seconds{10};
    auto version = run_process({qemu, "--version"}, options);
    if (version.exit_status == 0) qemu_version = first_line(version.stdout_text);
  } catch (const CommandError&) {
    qemu_version = "not installed";
  }
  return "boot " + boot_id + "; kernel " + names.release + "; " + qemu_version;
}

std::filesystem::path default_probe_cache() { return cache_root() / "kvm-probe.json"; }

std::optional<AcceleratorChoice> read_probe_cache(const std::filesystem::path& cache_file,
                                                  const std::string& host_identity) {
  if (!std::filesystem::is_regular_file(cache_file)) return std::nullopt;
  try {
    auto json = nlohmann::json::parse(read_file(cache_file));
    if (json.value("schema", "") != kCacheSchema || json.value("host", "") != host_identity)
      return std::nullopt;
    AcceleratorChoice choice;
    choice.accelerator = json.at("kvm_usable").get<bool>() ? Accelerator::kvm : Accelerator::tcg;
    choice.reason = json.at("reason").get<std::string>();
    choice.probed_at = json.at("probed_at").get<std::string>();
    choice.kind = json.value("kind", "firmware") == "kernel boot" ? ProbeKind::kernel_boot
                                                                   : ProbeKind::firmware;
    choice.from_cache = true;
    return choice;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

void write_probe_cache(const std::filesystem::path& cache_file, const std::string& host_identity,
                       const ProbeResult& result) {
  std::filesystem::create_directories(cache_file.parent_path());
  nlohmann::json json = {{"schema", kCacheSchema},
                         {"schema_version", 1},
                         {"host", host_identity},
                         {"kvm_usable", result.usable},
                         {"reason", result.reason},
                         {"probe_s", result.seconds},
                         {"kind", result.kind == ProbeKind::kernel_boot ? "kernel boot" : "firmware"},
                         {"probed_at", utc_timestamp(std::chrono::system_clock::now())}};
  write_file_atomic(cache_file, json.dump(2) + "\n");
}

AcceleratorChoice choose_accelerator(Accelerator requested, const VmConfig& config,
                                     const std::filesystem::path& cache_file, bool reprobe,
                                     std::chrono::milliseconds timeout) {
  if (requested == Accelerator::kvm) return {Accelerator::kvm, "requested with --accel kvm", false, "", {}};
  if (requested == Accelerator::tcg) return {Accelerator::tcg, "requested with --accel tcg", false, "", {}};

  int kvm_fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  if (kvm_fd < 0) {
    std::string why = errno == ENOENT ? "/dev/kvm does not exist"
                                      : "cannot open /dev/kvm: " + std::string{std::strerror(errno)};
    return {Accelerator::tcg, fall_back_to_tcg(why), false, "", {}};
  }
  ::close(kvm_fd);

  std::string host = probe_host_identity(config.qemu);
  bool have_kernel = !config.kernel_image.empty();
  if (!reprobe) {
    auto cached = read_probe_cache(cache_file, host);
    bool settled = cached && (cached->accelerator == Accelerator::tcg ||
                              cached->kind == ProbeKind::kernel_boot || !have_kernel);
    if (settled) {
      if (cached->accelerator == Accelerator::tcg) cached->reason = fall_back_to_tcg(cached->reason);
      cached->reason += " (cached result of the probe at " + cached->probed_at + ", " +
                        cache_file.string() + ")";
      return *cached;
    }
  }
  auto probe = have_kernel ? probe_kernel_boot(config, Accelerator::kvm, timeout)
                           : probe_firmware_boot(config.qemu, Accelerator::kvm, timeout);
  write_probe_cache(cache_file, host, probe);
  AcceleratorChoice choice;
  choice.accelerator = probe.usable ? Accelerator::kvm : Accelerator::tcg;
  choice.reason = probe.usable ? probe.reason : fall_back_to_tcg(probe.reason);
  choice.probed_at = utc_timestamp(std::chrono::system_clock::now());
  choice.kind = probe.kind;
  return choice;
}

}  // namespace nozero::vm

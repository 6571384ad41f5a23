// Real guests under QEMU: the kernels the kernel_build_patched and
// kernel_build_unpatched fixtures built, booted under TCG unless a probe shows
// KVM works. Each test boots once, which takes a few seconds under TCG.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "core/files.h"
#include "core/process.h"
#include "kernel/build.h"
#include "vm/accelerator.h"
#include "vm/qemu_executor.h"

#ifndef NOZERO_BENCH_BINARY
#error "NOZERO_BENCH_BINARY must name the nozero-bench executable"
#endif
#ifndef NOZERO_TEST_KERNEL_CACHE
#error "NOZERO_TEST_KERNEL_CACHE must name the kernel cache of the build fixtures"
#endif
#ifndef NOZERO_TEST_OUTPUT
#error "NOZERO_TEST_OUTPUT must name a directory for console logs"
#endif

namespace nozero::vm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// The fixture's build of the current series and config, or a failed assertion
// naming the fixture.
fs::path kernel_image(bool patched) {
  kernel::BuildOptions options;
  options.cache_dir = NOZERO_TEST_KERNEL_CACHE;
  options.apply_patches = patched;
  auto build = kernel::find_build(options);
  if (!build) {
    ADD_FAILURE() << "no " << (patched ? "patched" : "unpatched") << " kernel for the current "
                  << "inputs in " << NOZERO_TEST_KERNEL_CACHE << "; the kernel_build_"
                  << (patched ? "patched" : "unpatched") << " test builds it";
    return {};
  }
  if (patched && !build->patched)
    ADD_FAILURE() << "the series in kernel-patches/linux-6.12 is empty, so the kernel_build_patched "
                     "fixture built an unpatched kernel";
  return build->image;
}

fs::path output_dir() {
  fs::path directory = NOZERO_TEST_OUTPUT;
  fs::create_directories(directory);
  return directory;
}

VmConfig base_config(bool patched, const std::string& name) {
  VmConfig config;
  config.kernel_image = kernel_image(patched);
  config.cpus = 2;
  config.memory_mib = 512;
  config.timeout = std::chrono::seconds{180};
  config.console_log = output_dir() / (name + ".console.log");
  config.kvm_probe_cache = output_dir() / "kvm-probe.json";
  return config;
}

// Runs `nozero-bench ARGS...` with its cache under the test output directory.
ProcessResult run_cli(const std::vector<std::string>& arguments, int timeout_s) {
  std::vector<std::string> argv{NOZERO_BENCH_BINARY};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  RunOptions options;
  options.env = {{"XDG_CACHE_HOME", (output_dir() / "xdg-cache").string()}};
  options.timeout = std::chrono::seconds{timeout_s};
  return run_process(argv, options);
}

// "key=value" lines of a command's output.
std::map<std::string, std::string> parse_pairs(const std::string& text) {
  std::map<std::string, std::string> pairs;
  std::istringstream lines{text};
  for (std::string line; std::getline(lines, line);) {
    auto equals = line.find('=');
    if (equals != std::string::npos) pairs[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return pairs;
}

TEST(VmBoot, CommandRunsAsUidWithStatusAndOutput) {
  TempDirectory share("nozero-vm-share");
  ::chmod(share.path().c_str(), 0777);
  auto console = output_dir() / "uid.console.log";
  auto result = run_cli({"vm", "exec", "--kernel", kernel_image(true).string(), "--uid", "1000",
                         "--memory", "512M", "--timeout", "180", "--share", share.path().string(),
                         "--console-log", console.string(), "--", "sh", "-c",
                         "id -u; id -g; echo to-stderr >&2; echo written > " +
                             share.path().string() + "/from-guest; exit 7"},
                        240);
  EXPECT_EQ(result.exit_status, 7) << result.stderr_text;
  EXPECT_EQ(result.stdout_text, "1000\n1000\n");
  EXPECT_NE(result.stderr_text.find("to-stderr\n"), std::string::npos) << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("vm exec: accelerator "), std::string::npos)
      << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("exit status 7"), std::string::npos) << result.stderr_text;
  EXPECT_EQ(read_file(share.path() / "from-guest"), "written\n");
  struct stat info {};
  ASSERT_EQ(::stat((share.path() / "from-guest").c_str(), &info), 0);
  EXPECT_EQ(info.st_uid, 1000u);
  EXPECT_GT(fs::file_size(console), 0u);
}

TEST(VmBoot, OutputStreamsWhileCommandRuns) {
  auto config = base_config(true, "stream");
  GuestCommand command;
  command.argv = {"sh", "-c", "echo first; sleep 4; echo second; echo problem >&2"};

  auto started = Clock::now();
  std::vector<std::pair<double, std::string>> stdout_chunks;
  std::string stderr_text;
  auto result = QemuExecutor{}.run_streams(
      config, command,
      {[&](std::string_view chunk) {
         stdout_chunks.emplace_back(
             std::chrono::duration<double>(Clock::now() - started).count(), std::string{chunk});
       },
       [&](std::string_view chunk) { stderr_text.append(chunk); }});

  ASSERT_TRUE(result.error.empty()) << result.error;
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_EQ(stderr_text, "problem\n");
  double first_at = -1;
  double second_at = -1;
  std::string all;
  for (const auto& [at, chunk] : stdout_chunks) {
    all += chunk;
    if (first_at < 0 && all.find("first\n") != std::string::npos) first_at = at;
    if (second_at < 0 && all.find("second\n") != std::string::npos) second_at = at;
  }
  EXPECT_EQ(all, "first\nsecond\n");
  // "first" must reach the host while the command still sleeps.
  EXPECT_GE(second_at - first_at, 2.0) << "first at " << first_at << " s, second at " << second_at;
  EXPECT_GT(result.boot_s, 0.0);
  EXPECT_GE(result.command_s, 4.0);
  EXPECT_NE(result.kernel_release.find("-nozero"), std::string::npos) << result.kernel_release;
  EXPECT_NE(result.kernel_cmdline.find("console=ttyS0"), std::string::npos);
  EXPECT_FALSE(result.accelerator_reason.empty());
  EXPECT_FALSE(result.qemu_argv.empty());
}

TEST(VmBoot, GuestEnvironmentAndMounts) {
  TempDirectory share("nozero-vm-share");
  auto config = base_config(true, "environment");
  config.share_dir = share.path();
  config.thp = "always";
  GuestCommand command;
  command.env = {{"NOZERO_TEST", "value"}};
  command.cwd = "/usr";
  std::string probe_file = "/etc/nozero-guest-write-" + std::to_string(::getpid());
  command.argv = {
      "sh", "-c",
      "echo hostname=$(hostname); echo pwd=$(pwd); echo home=$HOME; echo user=$USER;"
      "echo path=$PATH; echo env=$NOZERO_TEST;"
      "touch " + probe_file + " && echo root_writable=yes;"
      "test -r /sys/kernel/tracing/available_tracers && echo tracefs=yes;"
      "test -d /sys/kernel/debug/tracing && echo debugfs=yes;"
      "test -r /proc/vmstat && echo proc=yes;"
      "test -d /dev/shm && test -c /dev/null && echo dev=yes;"
      "echo thp=$(cat /sys/kernel/mm/transparent_hugepage/enabled);"
      "echo shared > " + share.path().string() + "/file && echo share=yes;"
      "test -e " + (share.path() / "host-file").string() + " && echo host_file=yes"};
  write_file_atomic(share.path() / "host-file", "from host");

  std::string output;
  auto result = QemuExecutor{}.run(config, command,
                                   [&output](std::string_view chunk) { output.append(chunk); });
  ASSERT_TRUE(result.error.empty()) << result.error;
  EXPECT_EQ(result.exit_status, 0) << output;

  auto pairs = parse_pairs(output);
  EXPECT_EQ(pairs["hostname"], "nozero-guest");
  EXPECT_EQ(pairs["pwd"], "/usr");
  EXPECT_EQ(pairs["home"], "/root");
  EXPECT_EQ(pairs["user"], "root");
  EXPECT_NE(pairs["path"].find("/usr/bin"), std::string::npos);
  EXPECT_EQ(pairs["env"], "value");
  EXPECT_EQ(pairs["root_writable"], "yes");
  EXPECT_EQ(pairs["tracefs"], "yes");
  EXPECT_EQ(pairs["debugfs"], "yes");
  EXPECT_EQ(pairs["proc"], "yes");
  EXPECT_EQ(pairs["dev"], "yes");
  EXPECT_EQ(pairs["thp"], "[always] madvise never");
  EXPECT_EQ(pairs["share"], "yes");
  EXPECT_EQ(pairs["host_file"], "yes");
  // Writes to / stay in the guest's tmpfs overlay.
  EXPECT_FALSE(fs::exists(probe_file));
  EXPECT_EQ(read_file(share.path() / "file"), "shared\n");
}

TEST(VmBoot, NozeroSysctlOnPatchedKernel) {
  auto config = base_config(true, "sysctl-patched");
  GuestCommand command;
  command.argv = {"cat", "/proc/sys/vm/nozero"};
  std::string output;
  auto result = QemuExecutor{}.run(config, command,
                                   [&output](std::string_view chunk) { output.append(chunk); });
  ASSERT_TRUE(result.error.empty()) << result.error;
  EXPECT_EQ(result.exit_status, 0) << output;
  EXPECT_TRUE(output == "0\n" || output == "1\n") << output;
}

TEST(VmBoot, NoNozeroSysctlOnUnpatchedKernel) {
  auto config = base_config(false, "sysctl-unpatched");
  GuestCommand command;
  command.argv = {"sh", "-c", "test -e /proc/sys/vm/nozero; echo exists=$?; uname -r"};
  std::string output;
  auto result = QemuExecutor{}.run(config, command,
                                   [&output](std::string_view chunk) { output.append(chunk); });
  ASSERT_TRUE(result.error.empty()) << result.error;
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_NE(output.find("exists=1\n"), std::string::npos) << output;
  EXPECT_NE(output.find("-unpatched"), std::string::npos) << output;
}

TEST(VmBoot, HungGuestKilledAtTimeout) {
  auto console = output_dir() / "timeout.console.log";
  auto started = Clock::now();
  auto result = run_cli({"vm", "exec", "--kernel", kernel_image(true).string(), "--memory", "512M",
                         "--timeout", "40", "--console-log", console.string(), "--", "sleep", "600"},
                        120);
  double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  EXPECT_EQ(result.exit_status, kExitGuestTimeout) << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("timed out after 40 s"), std::string::npos) << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("the command was still running"), std::string::npos)
      << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("console log: " + console.string()), std::string::npos)
      << result.stderr_text;
  EXPECT_LT(elapsed, 100.0);
  EXPECT_GT(fs::file_size(console), 0u);
  EXPECT_NE(read_file(console).find("Run /init"), std::string::npos);
}

// Ctrl-C or SIGTERM of `nozero-bench run` sets a flag; the executor must stop the
// guest soon after, not at the end of the boot's time budget.
TEST(VmBoot, StopRequestEndsBootEarly) {
  VmConfig config = base_config(true, "stop");
  std::atomic<bool> stop{false};
  config.stop_requested = &stop;
  GuestCommand command;
  command.argv = {"/bin/sh", "-c", "echo started; sleep 600"};
  auto started = Clock::now();
  std::string output;
  auto result = QemuExecutor{}.run(config, command, [&](std::string_view chunk) {
    output.append(chunk);
    if (output.find("started") != std::string::npos) stop = true;
  });
  double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  EXPECT_NE(result.error.find("stopped on request"), std::string::npos) << result.error;
  EXPECT_FALSE(result.timed_out);
  EXPECT_NE(output.find("started"), std::string::npos);
  EXPECT_LT(elapsed, 120.0);
}

TEST(VmBoot, GarbageImageFailsClearly) {
  TempDirectory directory("nozero-vm-garbage");
  std::string garbage(1 << 20, '\0');
  std::mt19937 random{42};
  for (auto& byte : garbage) byte = static_cast<char>(random());
  write_file_atomic(directory.path() / "bzImage", garbage);
  auto console = directory.path() / "console.log";
  auto result = run_cli({"vm", "exec", "--kernel", (directory.path() / "bzImage").string(),
                         "--accel", "tcg", "--timeout", "60", "--console-log", console.string(),
                         "--", "true"},
                        120);
  EXPECT_EQ(result.exit_status, kExitGuestFailure) << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("QEMU exited with status"), std::string::npos)
      << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("before the command finished"), std::string::npos)
      << result.stderr_text;
  EXPECT_NE(result.stderr_text.find("console log: " + console.string()), std::string::npos);
}

TEST(VmBoot, KernelPanicEndsRunEarly) {
  auto config = base_config(true, "panic");
  // The later rdinit= wins; with no init and no root device the kernel panics.
  config.extra_cmdline = {"rdinit=/nonexistent"};
  GuestCommand command;
  command.argv = {"true"};
  auto started = Clock::now();
  auto result = QemuExecutor{}.run(config, command, nullptr);
  double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  EXPECT_NE(result.error.find("the guest kernel panicked (Kernel panic - not syncing"),
            std::string::npos)
      << result.error;
  EXPECT_NE(result.error.find("console log: " + config.console_log.string()), std::string::npos);
  EXPECT_FALSE(result.timed_out);
  EXPECT_LT(elapsed, 90.0);
}

TEST(VmBoot, KernelProbeRecognisesWorkingBoot) {
  VmConfig config = base_config(true, "probe");
  auto probe = probe_kernel_boot(config, Accelerator::tcg, std::chrono::seconds{120});
  EXPECT_TRUE(probe.usable) << probe.reason;
  EXPECT_EQ(probe.kind, ProbeKind::kernel_boot);
  EXPECT_NE(probe.reason.find("TCG probe boot of 6.12"), std::string::npos) << probe.reason;
}

}  // namespace
}  // namespace nozero::vm

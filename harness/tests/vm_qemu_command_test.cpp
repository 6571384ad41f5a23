// The QEMU and kernel command lines, and the parsing of --memory and --thp.
#include <gtest/gtest.h>

#include <algorithm>

#include "core/errors.h"
#include "vm/qemu_command.h"

namespace nozero::vm {
namespace {

bool contains(const std::vector<std::string>& argv, const std::string& value) {
  return std::find(argv.begin(), argv.end(), value) != argv.end();
}

// The value that follows `flag` the `occurrence`-th time it appears.
std::string value_after(const std::vector<std::string>& argv, const std::string& flag,
                        int occurrence = 0) {
  for (size_t index = 0; index + 1 < argv.size(); ++index) {
    if (argv[index] == flag && occurrence-- == 0) return argv[index + 1];
  }
  return {};
}

VmConfig sample_config() {
  VmConfig config;
  config.kernel_image = "/cache/k/bzImage";
  config.cpus = 3;
  config.memory_mib = 1536;
  config.thp = "always";
  return config;
}

GuestFiles sample_files() {
  return {"/run/x/initramfs.cpio", "/logs/console.log", "/run/x/channel.sock"};
}

TEST(QemuArgv, TcgUsesMultiThreadingAndMaxCpu) {
  auto argv = qemu_argv(sample_config(), Accelerator::tcg, sample_files());
  EXPECT_EQ(argv.front(), "qemu-system-x86_64");
  EXPECT_EQ(value_after(argv, "-accel"), "tcg,thread=multi");
  EXPECT_EQ(value_after(argv, "-cpu"), "max");
  EXPECT_EQ(value_after(argv, "-smp"), "3");
  EXPECT_EQ(value_after(argv, "-m"), "1536M");
  EXPECT_EQ(value_after(argv, "-kernel"), "/cache/k/bzImage");
  EXPECT_EQ(value_after(argv, "-initrd"), "/run/x/initramfs.cpio");
  EXPECT_TRUE(contains(argv, "-no-reboot"));
  EXPECT_TRUE(contains(argv, "-nodefaults"));
}

TEST(QemuArgv, KvmUsesHostCpu) {
  auto argv = qemu_argv(sample_config(), Accelerator::kvm, sample_files());
  EXPECT_EQ(value_after(argv, "-accel"), "kvm");
  EXPECT_EQ(value_after(argv, "-cpu"), "host");
}

TEST(QemuArgv, ConsoleAndChannelGoToFiles) {
  auto argv = qemu_argv(sample_config(), Accelerator::tcg, sample_files());
  EXPECT_EQ(value_after(argv, "-chardev", 0), "file,id=console,path=/logs/console.log");
  EXPECT_EQ(value_after(argv, "-serial"), "chardev:console");
  EXPECT_EQ(value_after(argv, "-chardev", 1), "socket,id=channel,path=/run/x/channel.sock");
  EXPECT_TRUE(contains(argv, "virtconsole,chardev=channel,name=org.nozero-bench.channel"));
}

TEST(QemuArgv, HostRootSharedReadOnly) {
  auto argv = qemu_argv(sample_config(), Accelerator::tcg, sample_files());
  EXPECT_EQ(value_after(argv, "-virtfs", 0),
            "local,path=/,mount_tag=nozero-root,security_model=none,readonly=on,multidevs=remap");
  EXPECT_EQ(value_after(argv, "-virtfs", 1), "");
}

TEST(QemuArgv, ShareDirectoryReadWrite) {
  auto config = sample_config();
  config.share_dir = "/data/results,2026";
  auto argv = qemu_argv(config, Accelerator::tcg, sample_files());
  EXPECT_EQ(value_after(argv, "-virtfs", 1),
            "local,path=/data/results,,2026,mount_tag=nozero-share,security_model=none,"
            "multidevs=remap");
}

TEST(KernelCmdline, SetsConsolePanicThpAndExtras) {
  auto config = sample_config();
  config.extra_cmdline = {"nokaslr", "loglevel=4"};
  auto cmdline = kernel_cmdline(config);
  EXPECT_EQ(cmdline,
            "console=ttyS0 panic=-1 rdinit=/init transparent_hugepage=always nokaslr loglevel=4");
  auto argv = qemu_argv(config, Accelerator::tcg, sample_files());
  EXPECT_EQ(value_after(argv, "-append"), cmdline);
}

TEST(QemuEscape, DoublesCommas) {
  EXPECT_EQ(qemu_escape("a,b,,c"), "a,,b,,,,c");
  EXPECT_EQ(qemu_escape("plain"), "plain");
}

TEST(MemorySize, AcceptsUnits) {
  EXPECT_EQ(parse_memory_mib("2048"), 2048u);
  EXPECT_EQ(parse_memory_mib("2G"), 2048u);
  EXPECT_EQ(parse_memory_mib("2GiB"), 2048u);
  EXPECT_EQ(parse_memory_mib("1.5g"), 1536u);
  EXPECT_EQ(parse_memory_mib("512M"), 512u);
  EXPECT_EQ(parse_memory_mib("512MiB"), 512u);
  EXPECT_EQ(parse_memory_mib("262144K"), 256u);
}

TEST(MemorySize, RejectsBadValuesNamingThem) {
  for (const char* bad : {"", "two", "-1G", "64M", "2X", "2 G B"}) {
    try {
      parse_memory_mib(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const CommandError& error) {
      std::string message = error.what();
      EXPECT_NE(message.find(std::string{"'"} + bad + "'"), std::string::npos) << message;
      EXPECT_NE(message.find("for example 2048, 2G"), std::string::npos) << message;
      EXPECT_EQ(error.exit_code(), kExitUsage);
    }
  }
}

TEST(ThpMode, AcceptsOnlyKernelModes) {
  EXPECT_NO_THROW(check_thp_mode("never"));
  EXPECT_NO_THROW(check_thp_mode("madvise"));
  EXPECT_NO_THROW(check_thp_mode("always"));
  EXPECT_THROW(check_thp_mode("sometimes"), CommandError);
}

}  // namespace
}  // namespace nozero::vm

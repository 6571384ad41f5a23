// QemuExecutor parts that need no boot: input checks, the console helpers, the
// default kernel, and the fake executor other modules test with.
#include <gtest/gtest.h>

#include <fstream>

#include "core/errors.h"
#include "core/files.h"
#include "vm/fake_executor.h"
#include "vm/qemu_executor.h"

namespace nozero::vm {
namespace {

namespace fs = std::filesystem;

class ExecutorInputTest : public ::testing::Test {
 protected:
  TempDirectory directory_{"nozero-executor-test"};
  VmConfig config_;
  GuestCommand command_;

  void SetUp() override {
    write_file_atomic(directory_.path() / "bzImage", "not really a kernel");
    config_.kernel_image = directory_.path() / "bzImage";
    config_.accelerator = Accelerator::tcg;
    command_.argv = {"true"};
  }

  // Runs the executor and returns the CommandError message it must raise.
  std::string rejection() {
    try {
      QemuExecutor{}.run(config_, command_, nullptr);
    } catch (const CommandError& error) {
      EXPECT_EQ(error.exit_code(), kExitUsage);
      return error.what();
    }
    ADD_FAILURE() << "the executor accepted the input";
    return {};
  }
};

TEST_F(ExecutorInputTest, MissingKernelImage) {
  config_.kernel_image = directory_.path() / "no-bzImage";
  auto message = rejection();
  EXPECT_NE(message.find("no-bzImage not found"), std::string::npos) << message;
  EXPECT_NE(message.find("nozero-bench kernel build"), std::string::npos) << message;
}

TEST_F(ExecutorInputTest, EmptyCommand) {
  command_.argv.clear();
  EXPECT_NE(rejection().find("no command given"), std::string::npos);
}

TEST_F(ExecutorInputTest, MissingShareDirectory) {
  config_.share_dir = directory_.path() / "absent";
  EXPECT_NE(rejection().find("absent does not exist"), std::string::npos);
}

TEST_F(ExecutorInputTest, RootAsShareDirectory) {
  config_.share_dir = "/";
  EXPECT_NE(rejection().find("cannot be /"), std::string::npos);
}

TEST_F(ExecutorInputTest, BadThpMode) {
  config_.thp = "sometimes";
  EXPECT_NE(rejection().find("invalid THP mode 'sometimes'"), std::string::npos);
}

TEST_F(ExecutorInputTest, TooFewCpusAndTooLittleMemory) {
  config_.cpus = 0;
  EXPECT_NE(rejection().find("invalid CPU count 0"), std::string::npos);
  config_.cpus = 1;
  config_.memory_mib = 64;
  EXPECT_NE(rejection().find("invalid guest memory 64 MiB"), std::string::npos);
}

TEST_F(ExecutorInputTest, RelativeWorkingDirectory) {
  command_.cwd = "relative/dir";
  EXPECT_NE(rejection().find("must be an absolute path"), std::string::npos);
}

TEST(GuestInit, ExplicitMissingPathRejected) {
  EXPECT_THROW(find_guest_init("/nonexistent/nozero-guest-init"), CommandError);
}

TEST(GuestInit, FoundInBuildTree) {
  auto path = find_guest_init();
  EXPECT_TRUE(fs::is_regular_file(path)) << path;
  EXPECT_EQ(path.filename(), "nozero-guest-init");
}

TEST(DefaultKernel, EmptyCacheTellsUserToBuild) {
  TempDirectory directory("nozero-executor-test");
  try {
    default_kernel_image(directory.path());
    FAIL() << "expected CommandError";
  } catch (const CommandError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("no patched kernel build in " + directory.path().string()),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("run `nozero-bench kernel build`"), std::string::npos) << message;
  }
}

TEST(ConsoleLog, FindsKernelPanic) {
  auto panic = find_kernel_panic(
      "[    1.0] Run /init as init process\r\n"
      "[    1.2] Kernel panic - not syncing: No working init found.\r\n"
      "[    1.3] CPU: 0 PID: 1\r\n");
  ASSERT_TRUE(panic);
  EXPECT_EQ(*panic, "Kernel panic - not syncing: No working init found.");
  EXPECT_FALSE(find_kernel_panic("[    1.0] all fine\n"));
}

TEST(ConsoleLog, TailKeepsLastLines) {
  TempDirectory directory("nozero-executor-test");
  auto log = directory.path() / "console.log";
  write_file_atomic(log, "one\r\ntwo\r\nthree\r\n");
  EXPECT_EQ(console_tail(log, 2), "  two\n  three\n");
  EXPECT_EQ(console_tail(directory.path() / "missing.log", 2), "");
}

TEST(FakeExecutor, RecordsCallsAndSeparatesStreams) {
  FakeExecutor fake([](const VmConfig&, const GuestCommand& command, const OutputStreams& streams) {
    streams.stdout_sink("out:" + command.argv.front());
    streams.stderr_sink("err");
    ExecResult result;
    result.exit_status = 4;
    return result;
  });
  VmConfig config;
  GuestCommand command;
  command.argv = {"ebizzy-nz"};
  command.uid = 1000;
  std::string out;
  std::string err;
  auto result = fake.run_streams(config, command,
                                 {[&out](std::string_view chunk) { out.append(chunk); },
                                  [&err](std::string_view chunk) { err.append(chunk); }});
  EXPECT_EQ(result.exit_status, 4);
  EXPECT_EQ(out, "out:ebizzy-nz");
  EXPECT_EQ(err, "err");

  std::string merged;
  fake.run(config, command, [&merged](std::string_view chunk) { merged.append(chunk); });
  EXPECT_EQ(merged, "out:ebizzy-nzerr");
  ASSERT_EQ(fake.calls().size(), 2u);
  EXPECT_EQ(fake.calls()[0].second.uid, 1000u);
}

}  // namespace
}  // namespace nozero::vm

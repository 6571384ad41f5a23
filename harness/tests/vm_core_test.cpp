// Child processes, hashing and files of the shared harness core.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/errors.h"
#include "core/files.h"
#include "core/hash.h"
#include "core/process.h"

namespace nozero {
namespace {

TEST(RunProcess, CollectsOutputAndStatus) {
  auto result = run_process({"sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(result.exit_status, 3);
  EXPECT_EQ(result.stdout_text, "out\n");
  EXPECT_EQ(result.stderr_text, "err\n");
  EXPECT_FALSE(result.timed_out);
}

TEST(RunProcess, ReportsSignalAsShellStatus) {
  auto result = run_process({"sh", "-c", "kill -TERM $$"});
  EXPECT_EQ(result.exit_status, 128 + 15);
}

TEST(RunProcess, KillsAtTimeout) {
  RunOptions options;
  options.timeout = std::chrono::milliseconds{200};
  auto result = run_process({"sleep", "30"}, options);
  EXPECT_TRUE(result.timed_out);
  EXPECT_LT(result.elapsed_s, 5.0);
}

TEST(RunProcess, TimeoutAppliesAfterOutputCloses) {
  RunOptions options;
  options.timeout = std::chrono::milliseconds{300};
  auto result = run_process({"sh", "-c", "exec >&- 2>&-; sleep 30"}, options);
  EXPECT_TRUE(result.timed_out);
  EXPECT_LT(result.elapsed_s, 5.0);
}

TEST(RunProcess, StreamsOutput) {
  std::string seen;
  RunOptions options;
  options.on_output = [&seen](std::string_view chunk) { seen.append(chunk); };
  auto result = run_process({"sh", "-c", "printf a; printf b >&2"}, options);
  EXPECT_EQ(result.exit_status, 0);
  EXPECT_EQ(seen.size(), 2u);
  EXPECT_TRUE(result.stdout_text.empty());
}

TEST(RunProcess, SetsEnvironmentAndDirectory) {
  RunOptions options;
  options.env = {{"NOZERO_TEST_VALUE", "42"}};
  options.cwd = "/usr";
  auto result = run_process({"sh", "-c", "echo $NOZERO_TEST_VALUE $(pwd)"}, options);
  EXPECT_EQ(result.stdout_text, "42 /usr\n");
}

TEST(RunProcess, MissingProgramNamesItAndFix) {
  try {
    run_process({"nozero-no-such-program"});
    FAIL() << "expected CommandError";
  } catch (const CommandError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("cannot run nozero-no-such-program"), std::string::npos) << message;
    EXPECT_NE(message.find("scripts/install-deps"), std::string::npos) << message;
  }
}

TEST(ShellQuote, QuotesOnlyWhatNeedsIt) {
  EXPECT_EQ(shell_quote({"make", "-j2", "LOCALVERSION=-x"}), "make -j2 LOCALVERSION=-x");
  EXPECT_EQ(shell_quote({"sh", "-c", "echo 'a b'"}), "sh -c 'echo '\\''a b'\\'''");
  EXPECT_EQ(shell_quote({""}), "''");
}

TEST(Sha256, MatchesKnownDigest) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 incremental;
  incremental.update("a").update("bc");
  EXPECT_EQ(incremental.digest_hex(), sha256_hex("abc"));
}

TEST(Sha256, HashesFiles) {
  TempDirectory directory("nozero-hash-test");
  write_file_atomic(directory.path() / "f", "abc");
  EXPECT_EQ(sha256_file(directory.path() / "f"), sha256_hex("abc"));
  EXPECT_THROW(sha256_file(directory.path() / "missing"), CommandError);
}

TEST(Files, AtomicWriteReplacesContents) {
  TempDirectory directory("nozero-files-test");
  auto path = directory.path() / "data.json";
  write_file_atomic(path, "one");
  write_file_atomic(path, "two");
  EXPECT_EQ(read_file(path), "two");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(directory.path()),
                          std::filesystem::directory_iterator()),
            1);
}

TEST(Files, FormatsDurations) {
  EXPECT_EQ(format_duration(4.24), "4.2s");
  EXPECT_EQ(format_duration(151), "2m31s");
}

TEST(Files, CacheRootFollowsXdg) {
  const char* saved = std::getenv("XDG_CACHE_HOME");
  ::setenv("XDG_CACHE_HOME", "/tmp/xdg-test", 1);
  EXPECT_EQ(cache_root(), std::filesystem::path{"/tmp/xdg-test/nozero-bench"});
  if (saved != nullptr) ::setenv("XDG_CACHE_HOME", saved, 1);
  else ::unsetenv("XDG_CACHE_HOME");
}

}  // namespace
}  // namespace nozero

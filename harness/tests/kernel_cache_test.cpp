// Cache keys, cache lookups, the build lock and build failures, on fake trees.
// The real builds run as the kernel_build_* CTest fixtures.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "core/errors.h"
#include "core/files.h"
#include "kernel/build.h"

namespace nozero::kernel {
namespace {

namespace fs = std::filesystem;

// A cache entry as build_kernel() leaves it.
void write_entry(const fs::path& cache, const std::string& key, bool patched,
                 const std::string& built_at) {
  write_file_atomic(cache / key / "bzImage", "image");
  nlohmann::json metadata = {
      {"schema", "nozero-bench/kernel-build"},
      {"schema_version", 1},
      {"key", key},
      {"release", patched ? "6.12.0-nozero" : "6.12.0-unpatched"},
      {"patched", patched},
      {"series", patched ? nlohmann::json{{"hash", "sha256:abc"}} : nlohmann::json(nullptr)},
      {"config", {{"hash", "sha256:def"}}},
      {"image", "bzImage"},
      {"built_at", built_at},
      {"build_s", 1.5},
  };
  write_file_atomic(cache / key / "metadata.json", metadata.dump());
}

class KernelCacheTest : public ::testing::Test {
 protected:
  TempDirectory directory_{"nozero-kernel-cache-test"};
  fs::path tree_ = directory_.path() / "linux";
  fs::path patches_ = directory_.path() / "patches";
  fs::path cache_ = directory_.path() / "cache";
  fs::path fragment_ = directory_.path() / "fragment.config";

  void SetUp() override {
    // Enough of a kernel tree for resolve_inputs(); `make tinyconfig` fails in it.
    write_file_atomic(tree_ / "Makefile", "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 7\nEXTRAVERSION =\n");
    fs::create_directories(patches_);
    write_file_atomic(fragment_, "CONFIG_TMPFS=y\n");
  }

  BuildOptions options() const {
    BuildOptions options;
    options.source = tree_;
    options.patches_dir = patches_;
    options.config_fragment = fragment_;
    options.cache_dir = cache_;
    options.jobs = 1;
    options.progress = [](std::string_view) {};
    return options;
  }
};

TEST_F(KernelCacheTest, InputsDescribeDirectorySource) {
  auto inputs = resolve_inputs(options());
  EXPECT_TRUE(inputs.source_is_directory);
  EXPECT_NE(inputs.source_id.find("version 6.12.7"), std::string::npos) << inputs.source_id;
  EXPECT_FALSE(inputs.patched);
  EXPECT_EQ(inputs.key.size(), 20u);
  EXPECT_EQ(inputs.key, resolve_inputs(options()).key);
}

TEST_F(KernelCacheTest, KeyChangesWithEachInput) {
  auto base = resolve_inputs(options()).key;

  write_file_atomic(fragment_, "CONFIG_TMPFS=y\nCONFIG_SMP=y\n");
  auto config_changed = resolve_inputs(options()).key;
  EXPECT_NE(config_changed, base);
  write_file_atomic(fragment_, "CONFIG_TMPFS=y\n");
  EXPECT_EQ(resolve_inputs(options()).key, base);

  write_file_atomic(patches_ / "0001-a.patch", "patch one\n");
  write_file_atomic(patches_ / "series", "0001-a.patch\n");
  auto patched = resolve_inputs(options());
  EXPECT_TRUE(patched.patched);
  EXPECT_NE(patched.key, base);
  write_file_atomic(patches_ / "0001-a.patch", "patch one, revised\n");
  EXPECT_NE(resolve_inputs(options()).key, patched.key);

  auto no_patches = options();
  no_patches.apply_patches = false;
  EXPECT_EQ(resolve_inputs(no_patches).key, base);

  write_file_atomic(tree_ / "Makefile", "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 8\nEXTRAVERSION =\n");
  EXPECT_NE(resolve_inputs(no_patches).key, base);
}

TEST_F(KernelCacheTest, MissingSourceNamesFix) {
  auto bad = options();
  bad.source = directory_.path() / "no-such.tar.xz";
  try {
    resolve_inputs(bad);
    FAIL() << "expected CommandError";
  } catch (const CommandError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("no-such.tar.xz not found"), std::string::npos) << message;
    EXPECT_NE(message.find("--source"), std::string::npos) << message;
    EXPECT_EQ(error.exit_code(), kExitUsage);
  }
}

TEST_F(KernelCacheTest, FragmentWithoutOptionsRejected) {
  write_file_atomic(fragment_, "# nothing here\n");
  EXPECT_THROW(resolve_inputs(options()), CommandError);
}

TEST_F(KernelCacheTest, ListsBuildsNewestFirst) {
  write_entry(cache_, "aaaa", true, "2026-01-01T00:00:00Z");
  write_entry(cache_, "bbbb", true, "2026-03-01T00:00:00Z");
  write_entry(cache_, "cccc", false, "2026-04-01T00:00:00Z");
  write_file_atomic(cache_ / "broken" / "metadata.json", "{not json");
  write_file_atomic(cache_ / "dddd.work" / "metadata.json", "{}");

  auto builds = list_builds(cache_);
  ASSERT_EQ(builds.size(), 3u);
  EXPECT_EQ(builds[0].key, "cccc");
  EXPECT_EQ(builds[1].key, "bbbb");
  EXPECT_EQ(builds[2].key, "aaaa");

  auto patched = newest_build(cache_, true);
  ASSERT_TRUE(patched);
  EXPECT_EQ(patched->key, "bbbb");
  EXPECT_EQ(patched->image, cache_ / "bbbb" / "bzImage");
  EXPECT_EQ(patched->series_hash, "sha256:abc");
  auto unpatched = newest_build(cache_, false);
  ASSERT_TRUE(unpatched);
  EXPECT_EQ(unpatched->key, "cccc");
  EXPECT_TRUE(unpatched->series_hash.empty());
}

TEST_F(KernelCacheTest, EntryWithoutImageIgnored) {
  write_entry(cache_, "aaaa", true, "2026-01-01T00:00:00Z");
  fs::remove(cache_ / "aaaa" / "bzImage");
  EXPECT_FALSE(load_build(cache_ / "aaaa"));
  EXPECT_FALSE(newest_build(cache_, true));
}

TEST_F(KernelCacheTest, CachedBuildReturnedWithoutBuilding) {
  auto key = resolve_inputs(options()).key;
  write_entry(cache_, key, false, "2026-01-01T00:00:00Z");
  auto build = build_kernel(options());
  EXPECT_TRUE(build.from_cache);
  EXPECT_EQ(build.image, cache_ / key / "bzImage");
  ASSERT_TRUE(find_build(options()));
}

TEST_F(KernelCacheTest, WaitingBuildReusesConcurrentResult) {
  auto key = resolve_inputs(options()).key;
  fs::create_directories(cache_);
  auto lock = std::make_unique<FileLock>(cache_ / (key + ".lock"));

  std::atomic<bool> waiting{false};
  auto blocked = options();
  blocked.progress = [&waiting](std::string_view line) {
    if (line.find("another process is building") != std::string_view::npos) waiting = true;
  };
  KernelBuild result;
  std::thread builder([&] { result = build_kernel(blocked); });

  for (int attempt = 0; attempt < 500 && !waiting; ++attempt)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  EXPECT_TRUE(waiting);
  // The lock holder finishes its build; the waiter must take it, not build again
  // (building this fake tree would fail).
  write_entry(cache_, key, false, "2026-01-01T00:00:00Z");
  lock.reset();
  builder.join();

  EXPECT_TRUE(result.from_cache);
  EXPECT_EQ(result.key, key);
}

TEST_F(KernelCacheTest, FailedBuildKeepsLogAndRemovesTree) {
  auto key = resolve_inputs(options()).key;
  try {
    build_kernel(options());
    FAIL() << "expected CommandError";
  } catch (const CommandError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("make tinyconfig failed"), std::string::npos) << message;
    EXPECT_NE(message.find(key + ".build.log"), std::string::npos) << message;
  }
  EXPECT_TRUE(fs::exists(cache_ / (key + ".build.log")));
  EXPECT_FALSE(fs::exists(cache_ / (key + ".work")));
  EXPECT_FALSE(fs::exists(cache_ / key));
}

}  // namespace
}  // namespace nozero::kernel

#include "nozero/atomic_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <system_error>

#include "testing/run_program.h"

namespace nozero {
namespace {

namespace fs = std::filesystem;
using testing::read_text_file;
using testing::TemporaryDirectory;

TEST(AtomicFile, WritesNewFile) {
  TemporaryDirectory dir;
  fs::path path = fs::path(dir.path()) / "result.json";
  write_file_atomically(path, "{\"a\": 1}\n");
  EXPECT_EQ(read_text_file(path), "{\"a\": 1}\n");
}

TEST(AtomicFile, ReplacesExistingFile) {
  TemporaryDirectory dir;
  fs::path path = fs::path(dir.path()) / "result.json";
  write_file_atomically(path, "old contents that are longer");
  write_file_atomically(path, "new");
  EXPECT_EQ(read_text_file(path), "new");
}

TEST(AtomicFile, LeavesNoTemporaryFile) {
  TemporaryDirectory dir;
  write_file_atomically(fs::path(dir.path()) / "a.json", "1");
  write_file_atomically(fs::path(dir.path()) / "a.json", "2");
  std::size_t entries = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    EXPECT_EQ(entry.path().filename(), "a.json");
    ++entries;
  }
  EXPECT_EQ(entries, 1u);
}

TEST(AtomicFile, AppliesUmaskToMode) {
  TemporaryDirectory dir;
  fs::path path = fs::path(dir.path()) / "mode.json";
  mode_t old_mask = ::umask(022);
  write_file_atomically(path, "x");
  ::umask(old_mask);
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0644u);
}

TEST(AtomicFile, MissingDirectoryNamesPath) {
  TemporaryDirectory dir;
  fs::path path = fs::path(dir.path()) / "missing" / "result.json";
  try {
    write_file_atomically(path, "x");
    FAIL() << "expected std::system_error";
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code().value(), ENOENT);
    EXPECT_NE(std::string(e.what()).find("missing"), std::string::npos) << e.what();
  }
}

TEST(AtomicFile, KeepsOldFileWhenRenameFails) {
  TemporaryDirectory dir;
  // A directory in the way makes rename fail after the temporary file was written.
  fs::path path = fs::path(dir.path()) / "taken";
  fs::create_directory(path);
  fs::create_directory(path / "child");
  EXPECT_THROW(write_file_atomically(path, "x"), std::system_error);
  EXPECT_TRUE(fs::is_directory(path / "child"));
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1u) << "the temporary file was not removed";
}

}  // namespace
}  // namespace nozero

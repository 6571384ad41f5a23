// The newc writer, checked by extracting its archives with cpio(1).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/files.h"
#include "core/process.h"
#include "vm/guest_protocol.h"
#include "vm/initramfs.h"

namespace nozero::vm {
namespace {

namespace fs = std::filesystem;

TEST(CpioWriter, ArchiveExtractsWithCpio) {
  TempDirectory directory("nozero-cpio-test");
  CpioWriter writer;
  writer.add_directory("etc");
  writer.add_file("etc/hello.txt", "hello\n");
  writer.add_file("/bin/tool", std::string(1001, 'x'), 0755);  // odd size: needs padding
  writer.add_char_device("console", 5, 1);
  std::string archive = writer.finish();
  EXPECT_EQ(archive.size() % 512, 0u);
  write_file_atomic(directory.path() / "a.cpio", archive);

  auto listing = run_process({"sh", "-c", "cpio -tv < a.cpio"}, [&] {
    RunOptions options;
    options.cwd = directory.path();
    return options;
  }());
  ASSERT_EQ(listing.exit_status, 0) << listing.stderr_text;
  EXPECT_NE(listing.stdout_text.find("crw-------"), std::string::npos) << listing.stdout_text;
  EXPECT_NE(listing.stdout_text.find("5,   1"), std::string::npos) << listing.stdout_text;

  fs::create_directories(directory.path() / "out");
  auto extract = run_process({"sh", "-c", "cpio -id --no-absolute-filenames < ../a.cpio"}, [&] {
    RunOptions options;
    options.cwd = directory.path() / "out";
    return options;
  }());
  ASSERT_EQ(extract.exit_status, 0) << extract.stderr_text;
  EXPECT_EQ(read_file(directory.path() / "out/etc/hello.txt"), "hello\n");
  EXPECT_EQ(read_file(directory.path() / "out/bin/tool"), std::string(1001, 'x'));
  struct stat info {};
  ASSERT_EQ(::stat((directory.path() / "out/bin/tool").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 07777, 0755u);
}

TEST(Initramfs, ContainsInitConsoleAndRequest) {
  TempDirectory directory("nozero-initramfs-test");
  write_file_atomic(directory.path() / "init", "#!/bin/sh\n");
  write_file_atomic(directory.path() / "a.cpio",
                    build_initramfs(directory.path() / "init", R"({"argv":["true"]})"));
  auto listing = run_process({"sh", "-c", "cpio -t < a.cpio"}, [&] {
    RunOptions options;
    options.cwd = directory.path();
    return options;
  }());
  ASSERT_EQ(listing.exit_status, 0) << listing.stderr_text;
  for (const char* name : {"init\n", "dev/console\n", "nozero/request.json\n", "proc\n"})
    EXPECT_NE(listing.stdout_text.find(name), std::string::npos) << name << listing.stdout_text;
}

}  // namespace
}  // namespace nozero::vm

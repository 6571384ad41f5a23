#include "run/cc_tree.h"

#include <unistd.h>

#include <chrono>

#include "core/errors.h"
#include "core/hash.h"
#include "nozero/atomic_file.h"
#include "core/process.h"

namespace nozero::run {

const char* const kLinuxToolsMakefile =
    "# Written by nozero-bench: the compiler-build workload. Each target runs the\n"
    "# tree's own Makefile, which calls gcc once per source file.\n"
    "all: api subcmd perf mm\n"
    "api:\n"
    "\t$(MAKE) -C tools/lib/api\n"
    "subcmd:\n"
    "\t$(MAKE) -C tools/lib/subcmd\n"
    "perf: api\n"
    "\t$(MAKE) -C tools/lib/perf\n"
    "mm: api\n"
    "\t$(MAKE) -C tools/mm\n"
    ".PHONY: all api subcmd perf mm\n";

namespace {

// Top-level directory name inside Debian's linux-source tarball.
constexpr const char* kTarballRoot = "linux-source-6.12";

const char* const kMembers[] = {"tools/build", "tools/scripts", "tools/include", "tools/lib",
                                "tools/mm",    "tools/arch/x86", "include/uapi"};

}  // namespace

std::filesystem::path prepare_linux_tools_tree(const std::filesystem::path& tarball,
                                               const std::filesystem::path& cache_dir,
                                               const std::function<void(const std::string&)>& log) {
  std::error_code error;
  auto size = std::filesystem::file_size(tarball, error);
  if (error) {
    throw CommandError("the compiler-build workload needs the kernel source tarball " + tarball.string() +
                       " (Debian package linux-source-6.12): " + error.message());
  }
  auto mtime = std::filesystem::last_write_time(tarball).time_since_epoch().count();
  std::string identity = tarball.string() + "\n" + std::to_string(size) + "\n" + std::to_string(mtime) + "\n" +
                         kLinuxToolsMakefile;
  for (const char* member : kMembers) identity += std::string{member} + "\n";
  std::filesystem::path tree = cache_dir / ("linux-tools-" + sha256_hex(identity).substr(0, 16));
  if (std::filesystem::exists(tree / "Makefile")) return tree;

  log("extracting the compiler-build tree from " + tarball.string() + " into " + tree.string() +
      " (once; about 30 s)");
  std::filesystem::path staging = tree.string() + ".tmp-" + std::to_string(getpid());
  std::filesystem::remove_all(staging);
  std::filesystem::create_directories(staging);
  std::vector<std::string> argv = {"tar", "-xJf", tarball.string(), "-C", staging.string(), "--strip-components=1"};
  for (const char* member : kMembers) argv.push_back(std::string{kTarballRoot} + "/" + member);
  RunOptions options;
  options.timeout = std::chrono::minutes(10);
  ProcessResult result = run_process(argv, options);
  if (result.exit_status != 0 || result.timed_out) {
    std::filesystem::remove_all(staging);
    std::string message = result.stderr_text.substr(0, result.stderr_text.find('\n'));
    throw CommandError("extracting " + tarball.string() + " failed (" +
                       (result.timed_out ? std::string{"timed out after 10 minutes"}
                                         : "tar exit status " + std::to_string(result.exit_status)) +
                       "): " + message);
  }
  write_file_atomically(staging / "Makefile", kLinuxToolsMakefile);
  std::filesystem::rename(staging, tree, error);
  if (error) {
    // Another nozero-bench finished the same tree first.
    std::filesystem::remove_all(staging);
    if (!std::filesystem::exists(tree / "Makefile")) {
      throw CommandError("cannot move " + staging.string() + " to " + tree.string() + ": " + error.message());
    }
  }
  return tree;
}

}  // namespace nozero::run

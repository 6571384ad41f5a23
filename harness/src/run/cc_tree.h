// The C source tree of the compiler-build workload (program "make", tree
// "linux-tools"): the user-space libraries and mm tools of the Linux source
// (tools/lib/api, tools/lib/subcmd, tools/lib/perf, tools/mm), built by the
// system's make and gcc with their own Makefiles. About 30 gcc invocations at -O2
// or -O3: 2 to 8 s on the 2-core build machine, tens of seconds in a TCG guest.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

namespace nozero::run {

// The Makefile placed at the root of the tree; `make -jN` there builds everything.
extern const char* const kLinuxToolsMakefile;

// Returns the prepared tree under cache_dir, extracting it from the kernel source
// tarball on first use (about 30 s: xz reads the whole tarball). The directory name
// carries a hash of the tarball's path, size and mtime and of the Makefile, so a new
// tarball or recipe gets a new tree. Throws CommandError when tar fails.
std::filesystem::path prepare_linux_tools_tree(const std::filesystem::path& tarball,
                                               const std::filesystem::path& cache_dir,
                                               const std::function<void(const std::string&)>& log);

}  // namespace nozero::run

// The command lines of nzmmap-test and nzmalloc-test, which share everything but
// where their pages come from.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>

#include "nozero/cli.h"
#include "reuse_probe.h"
#include "run_bound.h"

namespace workloads {

enum class ReuseProgram { nzmmap_test, nzmalloc_test };

struct ReuseOptions {
  std::uint64_t pages = 256;
  RunBound bound;
  bool nozero = false;
  bool verbose = false;
  std::uint64_t block_pages = 0;  // nzmalloc-test; 0 until resolved to `pages`
  MallocMode malloc_mode = MallocMode::glibc_default;
  nozero::cli::JsonDestination json;
};

inline constexpr std::uint64_t kDefaultIterations = 100;

void add_reuse_options(CLI::App& app, ReuseProgram program, ReuseOptions& options);

// Fills defaults that depend on other options and checks memory. Throws
// nozero::cli::UsageError.
void resolve_reuse_options(ReuseProgram program, ReuseOptions& options, std::optional<std::uint64_t> mem_available,
                           std::ostream& warnings);

// main() of either program.
int reuse_program_main(ReuseProgram program, int argc, char** argv);

}  // namespace workloads

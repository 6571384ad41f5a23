// cc-sim's driver: runs compile units as short-lived child processes, N at a time,
// the way `make -jN` runs a compiler per source file.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "nozero/cli.h"
#include "nozero/nozero_support.h"
#include "nozero/result.h"
#include "nozero/rusage.h"

namespace ccsim {

struct DriverOptions {
  std::uint64_t jobs = 2;
  std::uint64_t units = 8;
  std::uint64_t functions = 200;  // per unit
  std::uint64_t seed = 1;
  bool nozero = false;
  std::string output_dir;  // empty: a new directory under $TMPDIR or /tmp, removed afterwards
  bool keep_output = false;
  nozero::cli::JsonDestination json;
};

// The hidden child mode: `cc-sim --compile-unit N ...` compiles one unit.
struct UnitOptions {
  std::uint64_t unit = 0;
  std::string output;
};

// Memory one unit needs per generated function: an estimate from the peak RSS that
// /usr/bin/time -v reported on x86-64 (59 MiB for 400 functions, seed 1), rounded
// up. The generator draws the size of every function at random, so units vary.
inline constexpr std::uint64_t kBytesPerFunction = 160 * 1024;

void add_driver_options(CLI::App& app, DriverOptions& options, UnitOptions& unit_options);

// Throws nozero::cli::UsageError for a unit count below the job count's needs,
// or memory beyond MemAvailable.
void validate(const DriverOptions& options, std::optional<std::uint64_t> mem_available, std::ostream& warnings);

struct ProcessRecord {
  std::uint64_t unit = 0;
  int exit_status = -1;  // 0 to 255, or 128 + signal
  double wall_s = 0;     // from fork to reaping
  nozero::ResourceUsage usage;
  std::uint64_t output_bytes = 0;
  std::uint64_t output_fnv1a64 = 0;
};

struct DriverResult {
  std::vector<ProcessRecord> processes;  // in unit order
  double wall_s = 0;
  nozero::ResourceUsage children_usage;
  std::string output_dir;
  bool output_kept = false;
  // FNV-1a over every output file in unit order: equal for equal (seed, units, functions).
  std::uint64_t output_fnv1a64 = 0;
  std::uint64_t failed_units = 0;
};

// Runs every unit through `executable` (normally /proc/self/exe). With
// options.nozero and a kernel that has the series, each child switches on
// PR_SET_NOZERO between fork and exec. Throws std::system_error when fork fails.
DriverResult run_driver(const DriverOptions& options, const nozero::NozeroSupport& support,
                        const std::string& executable, std::ostream& log);

void add_to_report(nozero::WorkloadReport& report, const DriverResult& result);

// main() of cc-sim, both modes.
int cc_sim_main(int argc, char** argv);

}  // namespace ccsim

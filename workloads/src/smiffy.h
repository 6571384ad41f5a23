// smiffy, the leak checker: map anonymous pages, fault them in and report every
// page that was not zero. Run it as a user that owns no other process, so any
// data it finds came from another user.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "nozero/cli.h"
#include "nozero/result.h"
#include "nozero/rusage.h"
#include "page_probe.h"
#include "run_bound.h"

namespace workloads {

enum class SmiffyMapping { plain, nozero, both };

// Without -i or -S smiffy scans until SIGINT or SIGTERM, as the 2007 smiffy ran
// until it was killed.
inline constexpr std::uint64_t kSmiffyDefaultIterations = 0;
inline constexpr std::uint64_t kSmiffyDefaultSleepMs = 100;

const char* to_string(SmiffyMapping mapping);

struct SmiffyOptions {
  std::uint64_t pages = 256;
  // Unbounded unless -i or -S is given, with a pause that keeps smiffy's share of
  // the CPU small while it runs beside a measured workload.
  RunBound bound{0, 0, kSmiffyDefaultSleepMs, nullptr};
  SmiffyMapping mapping = SmiffyMapping::both;
  bool nozero_only = false;  // -N, the same as --mapping=nozero
  std::uint64_t max_reports = 20;
  std::uint64_t words = 4;
  nozero::cli::JsonDestination json;
};


void add_smiffy_options(CLI::App& app, SmiffyOptions& options);
// Throws nozero::cli::UsageError for -N with --mapping and for memory.
void resolve_smiffy_options(SmiffyOptions& options, bool mapping_given, std::optional<std::uint64_t> mem_available,
                            std::ostream& warnings);

struct Leak {
  std::uint64_t iteration = 0;
  bool nozero_mapping = false;
  std::uintptr_t address = 0;
  std::vector<NonzeroWord> words;
};

struct SmiffyResult {
  std::uint64_t iterations = 0;
  std::uint64_t pages_scanned = 0;
  std::uint64_t nonzero_pages = 0;
  // Pages of MAP_NOZERO mappings scanned: smiffy's own faults in the system-wide
  // nozero_reuse and nozero_clear counters.
  std::uint64_t nozero_pages_scanned = 0;
  // MAP_NOZERO pages that came back holding a smiffy marker of the same user and
  // nothing else: pages this or an earlier smiffy process of this user scanned,
  // handed back without clearing to the same user. Not a leak, and the part of
  // nozero_reuse that is smiffy's.
  std::uint64_t own_reused_pages = 0;
  std::vector<double> nonzero_per_iteration;
  // The first max_reports non-zero pages.
  std::vector<Leak> leaks;
  double elapsed_s = 0;
  nozero::ResourceUsage usage;
  // "bound" when -i or -S ended the run, "signal" when SIGINT or SIGTERM did.
  std::string stopped_by = "bound";
};

// Scans until the bound or bound.stop_flag ends the run. Each non-zero page is reported to `log` as
// it is found, up to options.max_reports.
SmiffyResult run_smiffy(const SmiffyOptions& options, std::ostream& log);

// Maps options.pages pages (with MAP_NOZERO if `nozero_mapping`), scans them with
// scan_pages() and unmaps them.
void scan_mapping(const SmiffyOptions& options, bool nozero_mapping, std::uint64_t iteration, SmiffyResult& result,
                  std::ostream& log);

// Faults in and checks each page, counting it in `result` and the current
// iteration's sample; reports non-zero pages to `log` up to options.max_reports.
// In a MAP_NOZERO mapping, a page that contains only a smiffy marker of this user
// counts as its own reuse. Every page scanned there then gets the marker (magic,
// uid, pid), so a later reuse shows. nzmmap-test's marker counts as a leak.
void scan_pages(const SmiffyOptions& options, const std::vector<char*>& pages, bool nozero_mapping,
                std::uint64_t iteration, SmiffyResult& result, std::ostream& log);

void add_to_report(nozero::WorkloadReport& report, const SmiffyResult& result, std::uint64_t uid);

}  // namespace workloads

// The perf(1) profile of a run: `perf record -e cpu-clock` around the workload in
// the guest (or on the host), and `perf report` on the host afterwards. The report
// runs on the host because perf's symbol resolution is slow under emulation; the
// guest's /proc/kallsyms is saved per boot for it, and user-space binaries resolve
// because the guest runs the host's files through the shared root.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nozero::run {

// Searches PATH; returns nullopt when no executable file of that name exists.
std::optional<std::filesystem::path> find_in_path(const std::string& name);

struct PerfAvailability {
  std::filesystem::path perf;
  bool available = false;
  std::string reason;
};

// Finds perf and checks that it can record cpu-clock samples here, by recording
// `true` into scratch_dir.
PerfAvailability probe_perf(const std::filesystem::path& scratch_dir);

// The argv prefix that records the command that follows it into `output`.
// -B and -N skip the build-id pass and cache, which would read every mapped binary
// at the end of the run.
std::vector<std::string> perf_record_prefix(const std::filesystem::path& perf,
                                            const std::filesystem::path& output);

struct SymbolShare {
  std::string symbol;
  std::string dso;
  // 'k' kernel or '.' user, as perf prints it.
  char mode = '.';
  std::int64_t samples = 0;
  double share = 0;
};

struct PerfSummary {
  std::int64_t samples = 0;
  std::vector<SymbolShare> symbols;
};

// Parses `perf report --stdio --no-children --sort sym,dso -n -t '|' -q` output.
// Shares are samples / total samples of the report.
PerfSummary parse_perf_report(const std::string& text);

// Runs perf report on the host. kallsyms is the guest's copy (empty: the running
// kernel's). Throws std::runtime_error with perf's message when it fails.
PerfSummary report_perf_data(const std::filesystem::path& perf, const std::filesystem::path& data,
                             const std::filesystem::path& kallsyms);

// The results.json "perf" block: the top symbols plus every clear_page symbol.
nlohmann::ordered_json perf_summary_json(const PerfSummary& summary, const std::string& perf_data,
                                         std::size_t top = 15);

// Summed share of the clear_page family (clear_page_*, folio_zero_user,
// clear_huge_page, clear_user_*) in a profile.
double clear_page_share(const PerfSummary& summary);
bool is_clear_page_symbol(const std::string& symbol);

}  // namespace nozero::run

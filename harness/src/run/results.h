// results.json (schema nozero-bench/results, docs/results-format.md): creating it
// with every planned run marked "missing", turning each run's capture into its
// entry, and reading it back for --resume.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "run/schedule.h"
#include "run/suite.h"

namespace nozero::run {

inline constexpr const char* kResultsSchema = "nozero-bench/results";
inline constexpr int kResultsVersion = 1;
inline constexpr const char* kResultsFile = "results.json";

// The host part of the context block: hostname, CPU model, CPUs, memory, kernel.
nlohmann::ordered_json host_context();

// A new results document: the context, the order and one "missing" entry per run.
nlohmann::ordered_json initial_results(const Suite& suite, const Schedule& schedule,
                                       const std::string& measured_on);

// Rebuilds the schedule stored in a results document (its context.order).
Schedule schedule_from_results(const nlohmann::json& results);

// Turns a capture document into a results.json run entry: copies the measurements,
// adds the metrics the harness derives (wall_s, nozero_reuse_rate,
// nozero_thp_reuse_rate, nozero_reuse_per_fault, clear_page_hits)
// and labels it with measured_on. Paths stored in the entry are relative to the
// result directory.
nlohmann::ordered_json run_entry_from_capture(const nlohmann::json& capture, const std::string& measured_on,
                                              const std::string& run_dir_relative);

// Stores the summarised perf profile in the entry and derives clear_page_cpu_ms:
// clear_page's share of the samples times the workload's user and system time.
void add_perf_summary(nlohmann::ordered_json& entry, const nlohmann::ordered_json& perf);

// The entry of a run that produced no capture: status missing, failed or timeout.
nlohmann::ordered_json run_entry_without_capture(const PlannedRun& run, const std::string& status,
                                                 const std::string& error, const std::string& measured_on);

// Reads and checks a results document; throws CommandError naming the file.
nlohmann::ordered_json load_results(const std::filesystem::path& path);
void save_results(const std::filesystem::path& path, const nlohmann::ordered_json& results);

// "runs/0007": where run `index` keeps its files.
std::string run_dir_name(std::size_t index);

// True for a run a resumed suite runs again: missing, failed or timeout.
bool needs_rerun(const nlohmann::json& run_entry);

// 4 KiB pages in the large folios the nozero_thp_* counters count. The counters
// count folios of any order; with only PMD-sized THP enabled, as in the guest
// kernel's configuration, every one is 2 MiB.
inline constexpr double kPagesPerThp = 512;

// The leak checker's own faults in MAP_NOZERO mappings during a run, which the
// system-wide nozero_* counters include. own_reused counts those that got back a
// page with a smiffy marker of its user; the kernel cleared the rest.
struct LeakCheckerFaults {
  double nozero_faults = 0;
  double own_reused = 0;
};
// Zeros when the run had no leak checker; nullopt when its leak_check block lacks
// either count (a leak checker that failed, or an older smiffy).
std::optional<LeakCheckerFaults> leak_checker_faults(const nlohmann::json& run_entry);

// The share of the workload's MAP_NOZERO faults that got a page without clearing:
//   (r - s_r + 512 t_r) / (r - s_r + c - (s - s_r) + 512 (t_r + t_c))
// r and c are nozero_reuse and nozero_clear, t_r and t_c nozero_thp_reuse and
// nozero_thp_clear. s is the leak checker's MAP_NOZERO faults, s_r those it reused.
std::optional<double> reused_rate(const nlohmann::json& run_entry);
// nozero_thp_reuse / (nozero_thp_reuse + nozero_thp_clear): large folios.
std::optional<double> thp_reused_rate(const nlohmann::json& run_entry);
// Calls of clear_page_* (every 4 KiB clear, those inside folio_zero_user too).
std::optional<double> clear_page_hits(const nlohmann::json& run_entry);

}  // namespace nozero::run

// Reading nozero-bench/results documents into per-metric samples.
//
// The loader checks the document against docs/results-format.md and throws
// CommandError (exit 2) naming the file, the JSON location and the fix.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nozero::stats {

inline constexpr const char* kResultsSchema = "nozero-bench/results";
inline constexpr int kResultsSchemaVersion = 1;

enum class Better { higher, lower };

// The repetitions of one metric of one workload in one arm.
struct MetricSeries {
  std::string unit;
  Better better = Better::higher;
  // True for a metric the workload reports itself. False for the diagnostics that
  // the suite runner adds to the run's "metrics" or that are derived from its
  // other sections, such as clear_page_hits (see is_derived_metric).
  bool headline = true;
  std::vector<double> values;
  std::vector<int> repetitions;  // the repetition index of each value
};

// Measurements of one workload, keyed by arm and then by metric.
struct WorkloadResults {
  std::map<std::string, std::map<std::string, MetricSeries>> arms;
  // Runs that did not finish (status failed, timeout or missing), per arm.
  std::map<std::string, int> unfinished_runs;
};

// The recorded setup that must match before two results are compared.
struct Setup {
  std::string kernel_release;
  std::string series_hash;
  std::string thp;
  std::string accelerator;
  std::string cpu_model;
};

struct SetupDifference {
  std::string field;  // for example "guest.kernel_release"
  std::string left;
  std::string right;
};

struct LoadedResults {
  std::filesystem::path path;  // the results.json that was read
  nlohmann::json document;
  Setup setup;
  std::string measured_on;  // "TCG guest", "KVM guest" or "host"
  std::string created_at;
  std::map<std::string, WorkloadResults> workloads;
};

// Reads a results.json file, or the results.json inside a result directory.
LoadedResults load_results(const std::filesystem::path& file_or_directory);

// Pools the runs of several results documents of the same setup, in order.
LoadedResults merge_results(const std::vector<LoadedResults>& parts);

// Per-repetition ratios of every arm to the reference arm of the same run: arm
// "nozero" becomes "nozero/baseline", with value(nozero, rep i) / value(baseline,
// rep i) for each repetition both arms finished. Machine drift between runs that
// moves both interleaved arms alike cancels in these ratios. Throws CommandError
// when no workload has the reference arm.
LoadedResults relative_results(const LoadedResults& results, const std::string& reference_arm);

std::vector<SetupDifference> compare_setup(const Setup& left, const Setup& right);

// One line per difference, for error messages: "guest.thp: madvise vs always".
std::string describe_differences(const std::vector<SetupDifference>& differences);

// The metric names any workload of these results reports, sorted.
std::vector<std::string> metric_names(const LoadedResults& results);

std::string to_string(Better better);

// True for the diagnostics the harness derives from a run or the suite runner adds
// to its metrics (wall_s, clear_page_*, reused rates), never a workload's headline
// metric.
bool is_derived_metric(const std::string& name);

}  // namespace nozero::stats

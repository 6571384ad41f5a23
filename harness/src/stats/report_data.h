// The statistics behind a report, as the JSON document (schema nozero-bench/report)
// that reports/render_report.py turns into Markdown and HTML. docs/reports.md
// describes its members.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "stats/comparison.h"
#include "stats/results.h"

namespace nozero::stats {

inline constexpr const char* kReportSchema = "nozero-bench/report";
inline constexpr int kReportSchemaVersion = 1;
inline constexpr const char* kIndexSchema = "nozero-bench/report-index";

struct ReportOptions {
  std::size_t resamples = kDefaultResamples;
  std::uint64_t seed = kDefaultSeed;
  double alpha = 0.05;
  double cv_warning = 0.05;
  // Setup differences between the sources, accepted with --force.
  std::vector<SetupDifference> forced_differences;
  std::string generated_at;  // UTC, ISO 8601
};

// Builds the report document from one or more results of the same setup. Each arm
// other than "baseline" is compared against "baseline".
nlohmann::ordered_json build_report(const std::vector<LoadedResults>& sources, const ReportOptions& options);

// Reads DIR/*/report.json and builds the index document, newest first. Throws
// CommandError naming a report.json that is not a valid report.
nlohmann::ordered_json build_index(const std::filesystem::path& dir, const std::string& generated_at);

// The current time as "2026-12-04T20:10:00Z".
std::string utc_now();

}  // namespace nozero::stats

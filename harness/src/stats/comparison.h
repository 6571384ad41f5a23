// Comparing the repetitions of one metric between a baseline and a candidate, and
// every shared metric between two results documents.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stats/results.h"
#include "stats/statistics.h"

namespace nozero::stats {

struct CompareOptions {
  double alpha = 0.05;
  // A significant change smaller than this (percent) still counts as no change.
  double min_change_pct = 0;
  // Coefficient of variation above which a warning is printed.
  double cv_warning = 0.05;
  std::size_t resamples = kDefaultResamples;
  std::uint64_t seed = kDefaultSeed;
  // False leaves out series_warnings and the warning about too few repetitions, for
  // callers that warn once per series or per arm.
  bool warn_per_series = true;
  std::vector<std::string> metrics;  // empty: every metric
  std::vector<std::string> arms;     // empty: every arm
  // When set, compare per-repetition ratios to this arm (see relative_results).
  std::string relative_to;
  // How warnings and notes name the two sides.
  std::string baseline_name = "A";
  std::string candidate_name = "B";
};

enum class Verdict { improved, regressed, no_change, not_comparable };

struct Comparison {
  std::string workload;
  std::string arm;
  std::string metric;
  std::string unit;
  Better better = Better::higher;
  bool headline = true;
  Summary baseline;
  Summary candidate;
  RatioInterval ratio;  // candidate / baseline
  MannWhitneyResult test;
  double shift = 0;  // Hodges-Lehmann, candidate minus baseline, in unit
  Verdict verdict = Verdict::no_change;
  std::vector<std::string> warnings;
};

// Noise warnings of one series: a coefficient of variation above
// options.cv_warning and outliers by modified z-score, each with its numbers and
// remedy. side names the series' origin in the message ("A", "baseline").
std::vector<std::string> series_warnings(const MetricSeries& series, const CompareOptions& options,
                                         const std::string& label, const std::string& side);

// Compares two samples. label names the series in warnings ("ebizzy-m/nozero
// records_per_s"); baseline_name and candidate_name name the two sides ("A", "B").
Comparison compare_series(const MetricSeries& baseline, const MetricSeries& candidate,
                          const CompareOptions& options, const std::string& label,
                          const std::string& baseline_name, const std::string& candidate_name);

// Percent change of the candidate's median over the baseline's (NaN when undefined).
double change_pct(const Comparison& comparison);

// The change in the direction that is worse for the metric, in percent; negative
// when the candidate is better.
double worsening_pct(const Comparison& comparison);

// "faster"/"slower" for times and rates, "better"/"worse" for other metrics.
std::string verdict_word(const Comparison& comparison);

struct GeometricMean {
  std::string arm;
  std::string metric;
  std::size_t workloads = 0;
  double ratio = 0;  // geometric mean of candidate / baseline over the workloads
};

struct ResultsComparison {
  std::vector<Comparison> rows;
  std::vector<GeometricMean> geometric_means;
  // Series with values on one side only, as "ebizzy-m/nozero records_per_s".
  std::vector<std::string> only_in_baseline;
  std::vector<std::string> only_in_candidate;
  std::vector<std::string> warnings;
};

// Compares every workload, arm and metric present in both documents. Throws
// CommandError when options name a metric or arm that neither document has.
ResultsComparison compare_results(const LoadedResults& baseline, const LoadedResults& candidate,
                                  const CompareOptions& options);

// Throws CommandError (exit 2) naming both files and every difference unless force.
void check_same_setup(const LoadedResults& baseline, const LoadedResults& candidate, bool force);

}  // namespace nozero::stats

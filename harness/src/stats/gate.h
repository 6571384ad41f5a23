// The CI regression gate: a metric fails when the new results are worse than the
// stored baseline by more than a threshold AND the Mann-Whitney test finds the
// difference significant.
#pragma once

#include <string>
#include <vector>

#include "stats/comparison.h"

namespace nozero::stats {

struct GateOptions {
  double max_regression_pct = 0;
  double alpha = 0.05;
  std::vector<std::string> metrics;  // empty: every headline metric
  std::vector<std::string> arms;     // empty: every arm
  // When set, gate the per-repetition ratios of each arm to this arm (see
  // relative_results) instead of the arms' own values.
  std::string relative_to;
  std::size_t resamples = kDefaultResamples;
  std::uint64_t seed = kDefaultSeed;
};

struct GateCheck {
  Comparison comparison;
  bool failed = false;
  std::string reason;  // why it passed or failed, with the numbers
};

struct GateResult {
  std::vector<GateCheck> checks;
  // Problems that make the gate unable to decide (exit 2): a series missing from
  // the results, too few repetitions to reach significance.
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  bool regressed() const;
};

// Evaluates the gate; setup differences are checked by the caller.
GateResult evaluate_gate(const LoadedResults& baseline, const LoadedResults& results, const GateOptions& options);

}  // namespace nozero::stats

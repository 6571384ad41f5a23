#include "stats/gate.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include "stats/format.h"

namespace nozero::stats {

bool GateResult::regressed() const {
  return std::any_of(checks.begin(), checks.end(), [](const GateCheck& check) { return check.failed; });
}

GateResult evaluate_gate(const LoadedResults& stored, const LoadedResults& new_results, const GateOptions& options) {
  const bool relative = !options.relative_to.empty();
  const LoadedResults baseline = relative ? relative_results(stored, options.relative_to) : stored;
  const LoadedResults results = relative ? relative_results(new_results, options.relative_to) : new_results;
  CompareOptions compare;
  compare.alpha = options.alpha;
  compare.metrics = options.metrics;
  compare.arms = options.arms;
  compare.resamples = options.resamples;
  compare.seed = options.seed;
  compare.baseline_name = "the baseline";
  compare.candidate_name = "the results";
  ResultsComparison comparison = compare_results(baseline, results, compare);

  GateResult gate;
  gate.warnings = comparison.warnings;
  // The baseline defines what must be measured; extra series in the results are fine.
  for (const std::string& series : comparison.only_in_baseline) {
    gate.errors.push_back(series + ": the baseline has values for this series but the results do not; the "
                                   "suite skipped the workload or every run of it failed");
  }

  // Metrics that too few repetitions leave undecidable, per (workload/arm, baseline n, results n).
  std::map<std::tuple<std::string, std::size_t, std::size_t>, std::vector<std::string>> too_few;
  for (Comparison& row : comparison.rows) {
    if (options.metrics.empty() && !row.headline) {
      continue;  // derived metrics are checked only when named
    }
    GateCheck check;
    const std::string label = row.workload + "/" + row.arm + " " + row.metric;
    if (options.metrics.empty() && row.verdict == Verdict::not_comparable) {
      // A counter that is 0 in the baseline (reused pages in the baseline arm) has no
      // percent change; it is skipped unless named with --metric.
      gate.warnings.push_back(label + ": not checked, the baseline median is 0 so no percent change exists");
      continue;
    }
    if (min_two_sided_p(row.baseline.n, row.candidate.n) >= options.alpha) {
      too_few[{row.workload + "/" + row.arm, row.baseline.n, row.candidate.n}].push_back(row.metric);
    }
    for (const std::string& warning : row.warnings) {
      gate.warnings.push_back(warning);
    }

    const double worse = worsening_pct(row);
    const std::string numbers = format_pct(change_pct(row)) + " (95% CI " + format_pct((row.ratio.low - 1) * 100) +
                                " to " + format_pct((row.ratio.high - 1) * 100) + "), " +
                                p_text(row.test.p_value) + ", " + to_string(row.better) + " is better";
    const bool significant = row.test.p_value < options.alpha;
    const bool beyond = worse > options.max_regression_pct;
    if (row.verdict == Verdict::not_comparable) {
      check.reason = numbers + ": baseline median is 0, no percent change exists";
      gate.errors.push_back(label + ": the baseline median is 0, so a percent threshold cannot apply; "
                                    "gate a different metric");
    } else if (significant && beyond) {
      check.failed = true;
      check.reason = numbers + ": worse by " + format_double("%.1f%%", worse) + ", beyond the " +
                     format_double("%.1f%%", options.max_regression_pct) + " threshold, and significant (p < " +
                     format_double("%g", options.alpha) + ")";
    } else if (beyond) {
      check.reason = numbers + ": worse by " + format_double("%.1f%%", worse) + " but not significant (p >= " +
                     format_double("%g", options.alpha) + ")";
    } else if (significant && worse > 0) {
      check.reason = numbers + ": significantly worse, but within the " +
                     format_double("%.1f%%", options.max_regression_pct) + " threshold";
    } else if (significant && worse < 0) {
      check.reason = numbers + ": significantly better";
    } else {
      check.reason = numbers;
    }
    check.comparison = std::move(row);
    gate.checks.push_back(std::move(check));
  }
  for (const auto& [key, metrics] : too_few) {
    const auto& [series, baseline_n, results_n] = key;
    std::string names;
    for (const std::string& metric : metrics) {
      names += (names.empty() ? "" : ", ") + metric;
    }
    gate.errors.push_back(series + ": " + std::to_string(baseline_n) + " repetitions in the baseline and " +
                          std::to_string(results_n) + " in the results cannot reach p < " + format_double("%g", options.alpha) + " (smallest possible p " +
                          format_double("%.3f", min_two_sided_p(baseline_n, results_n)) +
                          "), so the gate could never fail on " + names + "; run at least " +
                          std::to_string(min_repetitions_for(options.alpha)) + " repetitions per arm");
  }
  if (gate.checks.empty() && gate.errors.empty()) {
    gate.errors.push_back("no metric to check: the baseline " + baseline.path.string() +
                          " has no headline metric for the selected arms; name one with --metric");
  }
  return gate;
}

}  // namespace nozero::stats

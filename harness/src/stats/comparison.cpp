#include "stats/comparison.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "core/errors.h"
#include "stats/format.h"

namespace nozero::stats {
namespace {

bool is_time_or_rate(const std::string& unit) {
  return unit == "s" || unit == "ms" || unit == "us" || unit == "ns" || unit.find("/s") != std::string::npos;
}

bool selected(const std::vector<std::string>& wanted, const std::string& name) {
  return wanted.empty() || std::find(wanted.begin(), wanted.end(), name) != wanted.end();
}

}  // namespace

std::vector<std::string> series_warnings(const MetricSeries& series, const CompareOptions& options,
                                         const std::string& label, const std::string& side) {
  std::vector<std::string> warnings;
  const Summary summary = summarize(series.values);
  if (summary.n > 1 && summary.cv > options.cv_warning) {
    warnings.push_back(label + ": coefficient of variation " + format_double("%.1f%%", 100 * summary.cv) + " in " +
                       side + " (" + std::to_string(summary.n) + " repetitions, median " +
                       format_value(summary.median) + " " + series.unit + ") is above " +
                       format_double("%.0f%%", 100 * options.cv_warning) +
                       "; changes of that size cannot be told from noise. Run more repetitions, on an idle "
                       "machine, or with fewer workloads sharing its CPUs");
  }
  const std::vector<double> scores = modified_z_scores(series.values);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (std::fabs(scores[i]) > kOutlierZ) {
      warnings.push_back(label + ": repetition " + std::to_string(series.repetitions[i]) + " in " + side + " (" +
                         format_value(series.values[i]) + " " + series.unit + ") is an outlier, modified z-score " +
                         format_double("%.2f", scores[i]) + " beyond " + format_double("%.1f", kOutlierZ) +
                         "; it is kept, check that run's console log and system load");
    }
  }
  return warnings;
}

Comparison compare_series(const MetricSeries& baseline, const MetricSeries& candidate,
                          const CompareOptions& options, const std::string& label,
                          const std::string& baseline_name, const std::string& candidate_name) {
  Comparison comparison;
  comparison.unit = candidate.unit;
  comparison.better = candidate.better;
  comparison.headline = candidate.headline;
  comparison.baseline = summarize(baseline.values);
  comparison.candidate = summarize(candidate.values);
  comparison.ratio = bootstrap_ratio(baseline.values, candidate.values, options.resamples, 0.95, options.seed);
  comparison.test = mann_whitney_u(candidate.values, baseline.values);
  comparison.shift = hodges_lehmann_shift(baseline.values, candidate.values);

  // Too few repetitions: the exact test cannot reach alpha whatever the data.
  const double floor = min_two_sided_p(baseline.values.size(), candidate.values.size());
  if (options.warn_per_series && floor >= options.alpha) {
    comparison.warnings.push_back(
        label + ": " + std::to_string(baseline.values.size()) + " repetitions in " + baseline_name + " and " +
        std::to_string(candidate.values.size()) + " in " + candidate_name +
        " cannot reach p < " + format_double("%g", options.alpha) + " (the smallest possible p is " +
        format_double("%.3f", floor) + "); run at least " + std::to_string(min_repetitions_for(options.alpha)) +
        " repetitions per arm");
  }
  if (options.warn_per_series) {
    for (const auto& [series, side] : {std::pair{&baseline, &baseline_name}, std::pair{&candidate, &candidate_name}}) {
      for (std::string& warning : series_warnings(*series, options, label, *side)) {
        comparison.warnings.push_back(std::move(warning));
      }
    }
  }

  if (std::isnan(comparison.ratio.ratio)) {
    comparison.verdict = Verdict::not_comparable;
    comparison.warnings.push_back(label + ": the median in " + baseline_name +
                                  " is 0, so no ratio or percent change exists; compare the shift instead");
    return comparison;
  }

  const double change = change_pct(comparison);
  const bool significant = comparison.test.p_value < options.alpha && std::fabs(change) >= options.min_change_pct;
  if (!significant) {
    comparison.verdict = Verdict::no_change;
    return comparison;
  }
  // The direction comes from the medians; when they are equal, from the shift.
  const double direction = comparison.ratio.ratio != 1 ? comparison.ratio.ratio - 1 : comparison.shift;
  const bool increased = direction > 0;
  const bool higher_is_better = comparison.better == Better::higher;
  if (direction == 0) {
    comparison.verdict = Verdict::no_change;
  } else {
    comparison.verdict = increased == higher_is_better ? Verdict::improved : Verdict::regressed;
  }
  return comparison;
}

double change_pct(const Comparison& comparison) { return (comparison.ratio.ratio - 1) * 100; }

double worsening_pct(const Comparison& comparison) {
  const double change = change_pct(comparison);
  return comparison.better == Better::higher ? -change : change;
}

std::string verdict_word(const Comparison& comparison) {
  const bool timing = is_time_or_rate(comparison.unit);
  switch (comparison.verdict) {
    case Verdict::improved:
      return timing ? "faster" : "better";
    case Verdict::regressed:
      return timing ? "slower" : "worse";
    case Verdict::no_change:
      return "no change";
    case Verdict::not_comparable:
      break;
  }
  return "not comparable";
}

ResultsComparison compare_results(const LoadedResults& stored_baseline, const LoadedResults& stored_candidate,
                                  const CompareOptions& options) {
  const bool relative = !options.relative_to.empty();
  const LoadedResults baseline = relative ? relative_results(stored_baseline, options.relative_to) : stored_baseline;
  const LoadedResults candidate =
      relative ? relative_results(stored_candidate, options.relative_to) : stored_candidate;
  // Reject names that neither side has, so a typo cannot pass as "nothing to compare".
  std::set<std::string> known_metrics;
  std::set<std::string> known_arms;
  for (const LoadedResults* side : {&baseline, &candidate}) {
    for (const auto& [workload, entry] : side->workloads) {
      for (const auto& [arm, metrics] : entry.arms) {
        known_arms.insert(arm);
        for (const auto& [name, series] : metrics) {
          known_metrics.insert(name);
        }
      }
    }
  }
  const auto join = [](const std::set<std::string>& names) {
    std::string text;
    for (const std::string& name : names) {
      text += (text.empty() ? "" : ", ") + name;
    }
    return text;
  };
  for (const std::string& metric : options.metrics) {
    if (!known_metrics.contains(metric)) {
      throw CommandError("unknown metric \"" + metric + "\": neither " + baseline.path.string() + " nor " +
                         candidate.path.string() + " has it; known metrics: " + join(known_metrics));
    }
  }
  for (const std::string& arm : options.arms) {
    if (!known_arms.contains(arm)) {
      throw CommandError("unknown arm \"" + arm + "\": neither " + baseline.path.string() + " nor " +
                         candidate.path.string() + " has it; known arms: " + join(known_arms));
    }
  }

  ResultsComparison result;
  std::map<std::pair<std::string, std::string>, std::vector<double>> log_ratios;
  for (const auto& [workload, base_entry] : baseline.workloads) {
    const auto candidate_entry = candidate.workloads.find(workload);
    for (const auto& [arm, base_metrics] : base_entry.arms) {
      if (!selected(options.arms, arm)) {
        continue;
      }
      for (const auto& [metric, base_series] : base_metrics) {
        if (!selected(options.metrics, metric)) {
          continue;
        }
        const std::string label = workload + "/" + arm + " " + metric;
        const MetricSeries* new_series = nullptr;
        if (candidate_entry != candidate.workloads.end()) {
          const auto arm_it = candidate_entry->second.arms.find(arm);
          if (arm_it != candidate_entry->second.arms.end()) {
            const auto metric_it = arm_it->second.find(metric);
            if (metric_it != arm_it->second.end()) {
              new_series = &metric_it->second;
            }
          }
        }
        if (base_series.values.empty()) {
          continue;  // every run failed in the baseline; the candidate loop lists it
        }
        if (new_series == nullptr || new_series->values.empty()) {
          result.only_in_baseline.push_back(label);
          continue;
        }

        Comparison comparison =
            compare_series(base_series, *new_series, options, label, options.baseline_name, options.candidate_name);
        comparison.workload = workload;
        comparison.arm = arm;
        comparison.metric = metric;
        if (std::isfinite(comparison.ratio.ratio) && comparison.ratio.ratio > 0) {
          log_ratios[{arm, metric}].push_back(std::log(comparison.ratio.ratio));
        }
        result.rows.push_back(std::move(comparison));
      }
    }
  }

  // Series that only the candidate has.
  for (const auto& [workload, new_entry] : candidate.workloads) {
    for (const auto& [arm, new_metrics] : new_entry.arms) {
      if (!selected(options.arms, arm)) {
        continue;
      }
      for (const auto& [metric, series] : new_metrics) {
        if (!selected(options.metrics, metric) || series.values.empty()) {
          continue;
        }
        const auto base_entry = baseline.workloads.find(workload);
        const bool in_baseline = base_entry != baseline.workloads.end() &&
                                 base_entry->second.arms.contains(arm) &&
                                 base_entry->second.arms.at(arm).contains(metric) &&
                                 !base_entry->second.arms.at(arm).at(metric).values.empty();
        if (!in_baseline) {
          result.only_in_candidate.push_back(workload + "/" + arm + " " + metric);
        }
      }
    }
  }

  for (const auto& [key, logs] : log_ratios) {
    double sum = 0;
    for (double value : logs) {
      sum += value;
    }
    result.geometric_means.push_back({key.first, key.second, logs.size(), std::exp(sum / static_cast<double>(logs.size()))});
  }

  // Warn about runs that did not finish, because they shrink the samples.
  for (const LoadedResults* side : {&baseline, &candidate}) {
    const std::string& name = side == &baseline ? options.baseline_name : options.candidate_name;
    for (const auto& [workload, entry] : side->workloads) {
      for (const auto& [arm, count] : entry.unfinished_runs) {
        if (selected(options.arms, arm)) {
          result.warnings.push_back(workload + "/" + arm + ": " + std::to_string(count) + " run(s) in " + name +
                                    " did not finish (status failed, timeout or missing) and are left out; "
                                    "resume the suite to measure them");
        }
      }
    }
  }
  return result;
}

void check_same_setup(const LoadedResults& baseline, const LoadedResults& candidate, bool force) {
  const std::vector<SetupDifference> differences = compare_setup(baseline.setup, candidate.setup);
  if (differences.empty() || force) {
    return;
  }
  throw CommandError("the recorded setups differ, so the timings are not comparable:\n" +
                     describe_differences(differences) + "  (" + baseline.path.string() + " vs " +
                     candidate.path.string() +
                     ")\nMeasure both with the same kernel, series, THP mode, accelerator and CPU, "
                     "or pass --force to compare anyway");
}

}  // namespace nozero::stats

#include "stats/serialize.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "core/errors.h"

namespace nozero::stats {

using nlohmann::ordered_json;

std::string to_string(Verdict verdict) {
  switch (verdict) {
    case Verdict::improved:
      return "improved";
    case Verdict::regressed:
      return "regressed";
    case Verdict::no_change:
      return "no_change";
    case Verdict::not_comparable:
      break;
  }
  return "not_comparable";
}

ordered_json to_json(const Summary& summary) {
  return {{"n", summary.n},           {"median", summary.median}, {"mean", summary.mean},
          {"stddev", summary.stddev}, {"cv", summary.cv},         {"min", summary.min},
          {"max", summary.max}};
}

ordered_json to_json(const RatioInterval& interval) {
  return {{"ratio", interval.ratio},
          {"low", interval.low},
          {"high", interval.high},
          {"confidence", interval.confidence},
          {"method", "percentile bootstrap of the ratio of medians"},
          {"resamples", interval.resamples},
          {"seed", interval.seed}};
}

ordered_json to_json(const MannWhitneyResult& test) {
  return {{"test", "Mann-Whitney U, two-sided"},
          {"u", test.u},
          {"p_value", test.p_value},
          {"method", std::string{to_string(test.method)}},
          {"ties", test.ties}};
}

ordered_json to_json(const Comparison& comparison) {
  return {{"workload", comparison.workload},
          {"arm", comparison.arm},
          {"metric", comparison.metric},
          {"unit", comparison.unit},
          {"better", to_string(comparison.better)},
          {"headline", comparison.headline},
          {"baseline", to_json(comparison.baseline)},
          {"candidate", to_json(comparison.candidate)},
          {"change_pct", change_pct(comparison)},
          {"ratio", to_json(comparison.ratio)},
          {"mann_whitney", to_json(comparison.test)},
          {"hodges_lehmann_shift", comparison.shift},
          {"verdict", to_string(comparison.verdict)},
          {"verdict_word", verdict_word(comparison)},
          {"warnings", comparison.warnings}};
}

ordered_json to_json(const ResultsComparison& comparison) {
  ordered_json rows = ordered_json::array();
  for (const Comparison& row : comparison.rows) {
    rows.push_back(to_json(row));
  }
  ordered_json means = ordered_json::array();
  for (const GeometricMean& mean : comparison.geometric_means) {
    means.push_back({{"arm", mean.arm}, {"metric", mean.metric}, {"workloads", mean.workloads}, {"ratio", mean.ratio}});
  }
  return {{"rows", rows},
          {"geometric_means", means},
          {"only_in_baseline", comparison.only_in_baseline},
          {"only_in_candidate", comparison.only_in_candidate},
          {"warnings", comparison.warnings}};
}

ordered_json to_json(const GateResult& gate) {
  ordered_json checks = ordered_json::array();
  for (const GateCheck& check : gate.checks) {
    ordered_json entry = to_json(check.comparison);
    entry["failed"] = check.failed;
    entry["reason"] = check.reason;
    checks.push_back(entry);
  }
  return {{"regressed", gate.regressed()}, {"checks", checks}, {"errors", gate.errors}, {"warnings", gate.warnings}};
}

void write_file_atomically(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path temporary = path.string() + ".tmp";
  {
    std::ofstream output(temporary, std::ios::binary | std::ios::trunc);
    if (!output) {
      throw CommandError(temporary.string() + ": cannot be created (" + std::strerror(errno) +
                         "); check that the directory exists and is writable");
    }
    output << text;
    output.close();
    if (!output) {
      throw CommandError(temporary.string() + ": write failed (" + std::strerror(errno) + ")");
    }
  }
  std::error_code error;
  std::filesystem::rename(temporary, path, error);
  if (error) {
    throw CommandError(path.string() + ": cannot be replaced (" + error.message() + ")");
  }
}

}  // namespace nozero::stats

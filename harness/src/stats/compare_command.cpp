// nozero-bench compare A B: the change of every shared metric from A to B.
#include <algorithm>
#include <cmath>
#include <ostream>

#include "stats/subcommands.h"
#include "stats/format.h"
#include "stats/serialize.h"

namespace nozero::stats {
namespace {

using Table = std::vector<std::vector<std::string>>;

void print_table(const Table& table, std::ostream& out) {
  std::vector<std::size_t> widths;
  for (const auto& row : table) {
    widths.resize(std::max(widths.size(), row.size()), 0);
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  for (const auto& row : table) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) {
        line += std::string(widths[i] - row[i].size() + 2, ' ');
      }
    }
    out << line << "\n";
  }
}

std::string describe_side(const char* name, const LoadedResults& results) {
  return std::string{name} + ": " + results.path.string() + " (measured on " + results.measured_on +
         (results.created_at.empty() ? "" : ", created " + results.created_at) + ")";
}

std::string interval_text(const Comparison& row) {
  if (std::isnan(row.ratio.ratio)) {
    return "n/a";
  }
  return format_pct((row.ratio.low - 1) * 100) + " to " + format_pct((row.ratio.high - 1) * 100);
}

}  // namespace

int run_compare(const CompareRequest& request, std::ostream& out, std::ostream& err) {
  const LoadedResults baseline = load_results(request.baseline);
  const LoadedResults candidate = load_results(request.candidate);
  check_same_setup(baseline, candidate, request.force);
  const std::vector<SetupDifference> differences = compare_setup(baseline.setup, candidate.setup);
  if (!differences.empty()) {
    err << "warning: comparing despite setup differences (--force):\n" << describe_differences(differences);
  }

  const ResultsComparison comparison = compare_results(baseline, candidate, request.options);

  out << describe_side("A", baseline) << "\n" << describe_side("B", candidate) << "\n";
  out << "Medians over repetitions; change and 95% bootstrap CI of median(B) / median(A); "
         "two-sided Mann-Whitney U p-value; verdict at p < "
      << format_double("%g", request.options.alpha);
  if (request.options.min_change_pct > 0) {
    out << " and |change| >= " << format_double("%g%%", request.options.min_change_pct);
  }
  out << ".\n\n";

  Table table{{"workload", "arm", "metric", "unit", "A", "B", "change", "95% CI", "p", "verdict"}};
  for (const Comparison& row : comparison.rows) {
    table.push_back({row.workload, row.arm, row.metric + (row.headline ? "" : "*"), row.unit,
                     format_value(row.baseline.median), format_value(row.candidate.median),
                     format_pct(change_pct(row)), interval_text(row), format_p(row.test.p_value),
                     verdict_word(row)});
  }
  print_table(table, out);
  out << "(* derived by nozero-bench from the run's counters, not reported by the workload)\n";

  if (!comparison.geometric_means.empty()) {
    out << "\nGeometric mean of B / A across workloads:\n";
    Table means{{"arm", "metric", "workloads", "change"}};
    for (const GeometricMean& mean : comparison.geometric_means) {
      means.push_back({mean.arm, mean.metric, std::to_string(mean.workloads), format_pct((mean.ratio - 1) * 100)});
    }
    print_table(means, out);
  }
  for (const std::string& series : comparison.only_in_baseline) {
    out << "not compared: " << series << " has no values in B\n";
  }
  for (const std::string& series : comparison.only_in_candidate) {
    out << "not compared: " << series << " has no values in A\n";
  }

  for (const std::string& warning : comparison.warnings) {
    err << "warning: " << warning << "\n";
  }
  for (const Comparison& row : comparison.rows) {
    for (const std::string& warning : row.warnings) {
      err << "warning: " << warning << "\n";
    }
  }

  if (!request.json_out.empty()) {
    nlohmann::ordered_json document = to_json(comparison);
    document = {{"schema", "nozero-bench/compare"},
                {"schema_version", 1},
                {"a", {{"path", baseline.path.string()}, {"measured_on", baseline.measured_on}}},
                {"b", {{"path", candidate.path.string()}, {"measured_on", candidate.measured_on}}},
                {"alpha", request.options.alpha},
                {"rows", document["rows"]},
                {"geometric_means", document["geometric_means"]},
                {"only_in_a", document["only_in_baseline"]},
                {"only_in_b", document["only_in_candidate"]},
                {"warnings", document["warnings"]}};
    write_file_atomically(request.json_out, document.dump(2) + "\n");
  }
  return 0;
}

}  // namespace nozero::stats

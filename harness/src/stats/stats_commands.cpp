// Registers compare, gate and report on the nozero-bench command line.
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include "commands.h"
#include "core/errors.h"
#include "stats/subcommands.h"

namespace nozero {
namespace {

using stats::CompareRequest;
using stats::GateRequest;
using stats::IndexRequest;
using stats::ReportRequest;

// Options that name one value per occurrence (--metric a --metric b), so a list
// option never swallows the positional arguments that follow it.
CLI::Option* add_list(CLI::App& command, const std::string& name, std::vector<std::string>& target,
                      const std::string& help) {
  return command.add_option(name, target, help)->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
}

void add_compare(CLI::App& app) {
  auto request = std::make_shared<CompareRequest>();
  CLI::App* command = app.add_subcommand(
      "compare", "Compare two results (files or result directories): per workload, arm and metric, the median of "
                 "A and B, change, 95% bootstrap CI, Mann-Whitney p-value and verdict, and the geometric mean "
                 "across workloads");
  command->add_option("A", request->baseline, "Baseline results.json or result directory")->required();
  command->add_option("B", request->candidate, "New results.json or result directory")->required();
  add_list(*command, "--metric", request->options.metrics, "Compare only this metric (repeatable)");
  add_list(*command, "--arm", request->options.arms, "Compare only this arm: baseline, nozero, unpatched (repeatable)");
  command->add_option("--relative-to", request->options.relative_to,
                      "Compare each arm's per-repetition ratio to this arm of the same run (usually baseline)");
  command->add_option("--alpha", request->options.alpha, "Significance level of the Mann-Whitney test")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  command->add_option("--min-change", request->options.min_change_pct,
                      "Report a significant change smaller than this many percent as no change")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  command->add_option("--resamples", request->options.resamples, "Bootstrap resamples for each interval")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{100}, std::size_t{10000000}));
  command->add_option("--seed", request->options.seed, "Seed of the bootstrap")->capture_default_str();
  command->add_option("--json", request->json_out, "Also write the comparison to this JSON file");
  command->add_flag("--force", request->force, "Compare even when the recorded setups differ");
  command->callback([request] { stats::run_compare(*request, std::cout, std::cerr); });
}

void add_gate(CLI::App& app) {
  auto request = std::make_shared<GateRequest>();
  CLI::App* command = app.add_subcommand(
      "gate", "Fail CI on a regression: exit 0 pass, 1 when a metric is worse than the baseline by more than "
              "--max-regression and significantly so (Mann-Whitney p < --alpha), 2 on a usage or setup error");
  command->add_option("--baseline", request->baseline, "Stored baseline results.json or result directory")
      ->required();
  command->add_option("RESULTS", request->results, "New results.json or result directory")->required();
  command->add_option("--max-regression", request->options.max_regression_pct,
                      "Largest tolerated worsening, in percent of the baseline median")
      ->required()
      ->check(CLI::NonNegativeNumber);
  add_list(*command, "--metric", request->options.metrics,
           "Check this metric (repeatable); default: every metric the workloads report");
  add_list(*command, "--arm", request->options.arms, "Check only this arm (repeatable); default: every arm");
  command->add_option("--relative-to", request->options.relative_to,
                      "Gate each arm's per-repetition ratio to this arm of the same run (usually baseline), so "
                      "machine drift between the two runs cancels");
  command->add_option("--alpha", request->options.alpha, "Significance level of the Mann-Whitney test")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  command->add_option("--seed", request->options.seed, "Seed of the bootstrap intervals")->capture_default_str();
  command->add_option("--json", request->json_out, "Also write every check to this JSON file");
  command->add_flag("--force", request->force, "Gate even when the recorded setups differ");
  command->callback([request] {
    const int status = stats::run_gate(*request, std::cout, std::cerr);
    if (status == kExitFailure) {
      throw CommandError("regression against " + request->baseline.string() + ": see the FAIL lines above",
                         kExitFailure);
    }
    if (status != kExitOk) {
      throw CommandError("the gate cannot decide; the errors above say why", status);
    }
  });
}

void add_report(CLI::App& app) {
  auto report = std::make_shared<ReportRequest>();
  auto index = std::make_shared<IndexRequest>();
  CLI::App* command = app.add_subcommand(
      "report", "Write report.json, a Markdown summary and one self-contained HTML page for RESULTS to --out "
                "DIR; or, with --index DIR, an index page with trend plots over every report in DIR");
  CLI::Option* results =
      command->add_option("RESULTS", report->results, "results.json files or result directories of one setup");
  CLI::Option* out = command->add_option("--out", report->out_dir, "Directory to write the report to");
  CLI::Option* index_dir =
      command->add_option("--index", index->dir, "Write DIR/index.html over the reports in DIR's subdirectories");
  index_dir->excludes(results)->excludes(out);
  command->add_flag("--force", report->force, "Pool results whose recorded setups differ");
  command->add_option("--python", report->python, "Python interpreter with Debian's matplotlib")
      ->capture_default_str();
  command->add_option("--resamples", report->resamples, "Bootstrap resamples for each interval")
      ->capture_default_str()
      ->check(CLI::Range(std::size_t{100}, std::size_t{10000000}));
  command->add_option("--seed", report->seed, "Seed of the bootstrap")->capture_default_str();
  command->callback([report, index, index_dir] {
    if (index_dir->count() > 0) {
      index->python = report->python;
      stats::run_index(*index, std::cout, std::cerr);
      return;
    }
    stats::run_report(*report, std::cout, std::cerr);
  });
}

}  // namespace

void add_stats_commands(CLI::App& app) {
  add_compare(app);
  add_gate(app);
  add_report(app);
}

}  // namespace nozero

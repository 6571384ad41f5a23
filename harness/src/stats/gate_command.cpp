// nozero-bench gate: exit 1 when a metric regressed against the stored baseline.
#include <ostream>

#include "core/errors.h"
#include "stats/subcommands.h"
#include "stats/format.h"
#include "stats/serialize.h"

namespace nozero::stats {

int run_gate(const GateRequest& request, std::ostream& out, std::ostream& err) {
  if (!(request.options.max_regression_pct >= 0)) {
    throw CommandError("--max-regression " + format_value(request.options.max_regression_pct) +
                       " is invalid; give a percentage of 0 or more, for example 5");
  }
  if (!(request.options.alpha > 0 && request.options.alpha < 1)) {
    throw CommandError("--alpha " + format_value(request.options.alpha) + " is invalid; give a value between 0 and 1");
  }
  const LoadedResults baseline = load_results(request.baseline);
  const LoadedResults results = load_results(request.results);
  check_same_setup(baseline, results, request.force);

  const GateResult gate = evaluate_gate(baseline, results, request.options);

  out << "baseline: " << baseline.path.string() << " (measured on " << baseline.measured_on << ")\n"
      << "results:  " << results.path.string() << " (measured on " << results.measured_on << ")\n"
      << "a metric fails when it is worse by more than "
      << format_double("%g%%", request.options.max_regression_pct) << " and the Mann-Whitney p < "
      << format_double("%g", request.options.alpha) << "\n";
  if (!request.options.relative_to.empty()) {
    out << "gating the per-repetition ratio of each arm to the " << request.options.relative_to
        << " arm of the same run\n";
  }
  std::size_t failed = 0;
  for (const GateCheck& check : gate.checks) {
    const Comparison& row = check.comparison;
    out << (check.failed ? "FAIL " : "pass ") << row.workload << "/" << row.arm << " " << row.metric << ": "
        << check.reason << "\n";
    failed += check.failed ? 1 : 0;
  }
  for (const std::string& warning : gate.warnings) {
    err << "warning: " << warning << "\n";
  }

  if (!request.json_out.empty()) {
    nlohmann::ordered_json document = {{"schema", "nozero-bench/gate"},
                                       {"schema_version", 1},
                                       {"baseline", baseline.path.string()},
                                       {"results", results.path.string()},
                                       {"max_regression_pct", request.options.max_regression_pct},
                                       {"alpha", request.options.alpha}};
    document.update(to_json(gate));
    write_file_atomically(request.json_out, document.dump(2) + "\n");
  }

  if (!gate.errors.empty()) {
    for (const std::string& error : gate.errors) {
      err << "gate: error: " << error << "\n";
    }
    err << "gate: cannot decide (" << gate.errors.size() << " error(s)); exit " << kExitUsage << "\n";
    return kExitUsage;
  }
  if (failed > 0) {
    out << "gate: REGRESSION in " << failed << " of " << gate.checks.size() << " metric(s)\n";
    return kExitFailure;
  }
  out << "gate: pass (" << gate.checks.size() << " metric(s) checked)\n";
  return kExitOk;
}

}  // namespace nozero::stats

// Loading results and `nozero-bench compare` on the recorded fixtures: an A/A
// pair, a regression, an improvement, another setup and broken files.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "stats/comparison.h"
#include "stats/subcommands.h"
#include "stats_test_support.h"

namespace nozero::stats {
namespace {

using testing::fixture;
using testing::output_dir;
using testing::run_nozero_bench;

LoadedResults load(const std::string& name) { return load_results(fixture("results/" + name)); }

const Comparison& row(const ResultsComparison& comparison, const std::string& workload, const std::string& arm,
                      const std::string& metric) {
  for (const Comparison& candidate : comparison.rows) {
    if (candidate.workload == workload && candidate.arm == arm && candidate.metric == metric) {
      return candidate;
    }
  }
  throw std::runtime_error("no row " + workload + "/" + arm + " " + metric);
}

// The message of the CommandError that loading `name` throws.
std::string load_error(const std::string& name) {
  try {
    load_results(fixture("results/" + name));
  } catch (const CommandError& error) {
    EXPECT_EQ(error.exit_code(), 2);
    return error.what();
  }
  ADD_FAILURE() << name << " loaded without an error";
  return "";
}

TEST(CompareLoad, ReadsRunsPerWorkloadArmMetric) {
  const LoadedResults results = load("tcg-base.json");
  EXPECT_EQ(results.measured_on, "TCG guest");
  EXPECT_EQ(results.setup.thp, "madvise");
  EXPECT_EQ(results.setup.accelerator, "tcg");
  EXPECT_EQ(results.setup.kernel_release, "6.12.57");
  ASSERT_EQ(results.workloads.size(), 3U);

  const WorkloadResults& ebizzy = results.workloads.at("ebizzy-m");
  ASSERT_EQ(ebizzy.arms.size(), 3U);
  const MetricSeries& records = ebizzy.arms.at("nozero").at("records_per_s");
  EXPECT_EQ(records.values.size(), 8U);  // the warmup run is left out
  EXPECT_EQ(records.unit, "records/s");
  EXPECT_EQ(records.better, Better::higher);
  EXPECT_TRUE(records.headline);

  const MetricSeries& hits = ebizzy.arms.at("baseline").at("clear_page_hits");
  EXPECT_FALSE(hits.headline);
  EXPECT_EQ(hits.better, Better::lower);
  EXPECT_TRUE(ebizzy.arms.at("nozero").contains("reused_rate"));
  EXPECT_FALSE(ebizzy.arms.at("baseline").contains("reused_rate"));  // never requested, so no rate

  EXPECT_EQ(results.workloads.at("cc-sim").unfinished_runs.at("nozero"), 1);
  EXPECT_EQ(results.workloads.at("cc-sim").arms.at("nozero").at("elapsed_s").values.size(), 8U);
}

TEST(CompareLoad, AcceptsResultDirectory) {
  const auto dir = output_dir("compare-directory");
  std::filesystem::copy_file(fixture("results/tcg-base.json"), dir / "results.json");
  EXPECT_EQ(load_results(dir).workloads.size(), 3U);
  const auto empty = output_dir("compare-empty-directory");
  EXPECT_THROW(load_results(empty), CommandError);
}

TEST(CompareLoad, BadFilesNameFileAndFix) {
  const std::string missing = load_error("does-not-exist.json");
  EXPECT_NE(missing.find("does-not-exist.json: file not found"), std::string::npos) << missing;
  EXPECT_NE(missing.find("results.json that `nozero-bench run` writes"), std::string::npos) << missing;

  const std::string truncated = load_error("bad/truncated.json");
  EXPECT_NE(truncated.find("truncated.json: not valid JSON at byte"), std::string::npos) << truncated;
  EXPECT_NE(truncated.find("the file is truncated"), std::string::npos) << truncated;

  EXPECT_NE(load_error("bad/empty.json").find("the file is empty"), std::string::npos);

  const std::string newer = load_error("bad/schema-v2.json");
  EXPECT_NE(newer.find("schema_version 2 is not supported"), std::string::npos) << newer;
  EXPECT_NE(newer.find("newer nozero-bench"), std::string::npos) << newer;

  const std::string workload = load_error("bad/workload-output.json");
  EXPECT_NE(workload.find("output of one workload program"), std::string::npos) << workload;

  const std::string foreign = load_error("bad/foreign.json");
  EXPECT_NE(foreign.find("not a nozero-bench document"), std::string::npos) << foreign;

  const std::string wrong = load_error("bad/wrong-type.json");
  EXPECT_NE(wrong.find("/runs/3/metrics/"), std::string::npos) << wrong;
  EXPECT_NE(wrong.find("/value must be a number, found string"), std::string::npos) << wrong;
}

TEST(CompareResults, AAPairShowsNoHeadlineRegression) {
  const ResultsComparison comparison = compare_results(load("tcg-base.json"), load("tcg-aa.json"), {});
  for (const auto& [workload, arm, metric] :
       {std::tuple{"ebizzy-m", "baseline", "records_per_s"}, std::tuple{"ebizzy-m", "nozero", "records_per_s"},
        std::tuple{"ebizzy-m", "unpatched", "records_per_s"}, std::tuple{"nzmmap-test", "baseline", "pages_per_s"},
        std::tuple{"nzmmap-test", "nozero", "pages_per_s"}, std::tuple{"cc-sim", "baseline", "elapsed_s"}}) {
    const Comparison& entry = row(comparison, workload, arm, metric);
    EXPECT_EQ(entry.verdict, Verdict::no_change) << workload << "/" << arm << " p=" << entry.test.p_value;
    EXPECT_LT(std::fabs(change_pct(entry)), 5.0) << workload << "/" << arm;
  }
}

TEST(CompareResults, FindsRegression) {
  const ResultsComparison comparison = compare_results(load("tcg-base.json"), load("tcg-regression.json"), {});
  const Comparison& entry = row(comparison, "ebizzy-m", "nozero", "records_per_s");
  EXPECT_EQ(entry.verdict, Verdict::regressed);
  EXPECT_EQ(verdict_word(entry), "slower");
  EXPECT_NEAR(change_pct(entry), -14.4, 1.0);
  EXPECT_LT(entry.ratio.high, 1.0);
  EXPECT_LT(entry.test.p_value, 0.001);
  EXPECT_EQ(entry.test.method, PValueMethod::exact);
  EXPECT_LT(entry.shift, -80);  // records/s
  EXPECT_EQ(row(comparison, "ebizzy-m", "baseline", "records_per_s").verdict, Verdict::no_change);
}

TEST(CompareResults, FindsImprovementInBothDirections) {
  const ResultsComparison comparison = compare_results(load("tcg-base.json"), load("tcg-improvement.json"), {});
  const Comparison& pages = row(comparison, "nzmmap-test", "nozero", "pages_per_s");
  EXPECT_EQ(pages.verdict, Verdict::improved);
  EXPECT_GT(change_pct(pages), 8);
  // elapsed_s: lower is better, so a drop is an improvement.
  const Comparison& elapsed = row(comparison, "cc-sim", "nozero", "elapsed_s");
  EXPECT_EQ(elapsed.verdict, Verdict::improved);
  EXPECT_EQ(verdict_word(elapsed), "faster");
  EXPECT_LT(change_pct(elapsed), -4);
}

TEST(CompareResults, GeometricMeanOverWorkloads) {
  const ResultsComparison comparison = compare_results(load("tcg-base.json"), load("tcg-improvement.json"), {});
  double log_sum = 0;
  for (const char* workload : {"cc-sim", "ebizzy-m", "nzmmap-test"}) {
    log_sum += std::log(row(comparison, workload, "nozero", "wall_s").ratio.ratio);
  }
  bool found = false;
  for (const GeometricMean& mean : comparison.geometric_means) {
    if (mean.arm == "nozero" && mean.metric == "wall_s") {
      found = true;
      EXPECT_EQ(mean.workloads, 3U);
      EXPECT_NEAR(mean.ratio, std::exp(log_sum / 3), 1e-12);
    }
  }
  EXPECT_TRUE(found);
}

TEST(CompareResults, MinChangeTurnsSmallChangesIntoNoChange) {
  CompareOptions options;
  options.min_change_pct = 20;
  const ResultsComparison comparison = compare_results(load("tcg-base.json"), load("tcg-regression.json"), options);
  EXPECT_EQ(row(comparison, "ebizzy-m", "nozero", "records_per_s").verdict, Verdict::no_change);
}

TEST(CompareResults, RejectsUnknownMetricAndArm) {
  CompareOptions options;
  options.metrics = {"records_per_sec"};
  try {
    compare_results(load("tcg-base.json"), load("tcg-aa.json"), options);
    FAIL() << "an unknown metric was accepted";
  } catch (const CommandError& error) {
    const std::string message = error.what();
    EXPECT_EQ(error.exit_code(), 2);
    EXPECT_NE(message.find("unknown metric \"records_per_sec\""), std::string::npos) << message;
    EXPECT_NE(message.find("records_per_s"), std::string::npos) << message;  // lists the known names
  }
  options.metrics.clear();
  options.arms = {"nozer0"};
  EXPECT_THROW(compare_results(load("tcg-base.json"), load("tcg-aa.json"), options), CommandError);
}

TEST(CompareSetup, RejectsDifferentSetupUnlessForced) {
  const LoadedResults base = load("tcg-base.json");
  const LoadedResults other = load("tcg-other-setup.json");
  try {
    check_same_setup(base, other, false);
    FAIL() << "different setups were accepted";
  } catch (const CommandError& error) {
    const std::string message = error.what();
    EXPECT_EQ(error.exit_code(), 2);
    EXPECT_NE(message.find("thp: madvise vs always"), std::string::npos) << message;
    EXPECT_NE(message.find("guest.kernel_release: 6.12.57 vs 6.12.58"), std::string::npos) << message;
    EXPECT_NE(message.find("--force"), std::string::npos) << message;
  }
  EXPECT_NO_THROW(check_same_setup(base, other, true));
  EXPECT_NO_THROW(check_same_setup(base, load("tcg-aa.json"), false));
}

TEST(CompareCommand, PrintsTableAndWritesJson) {
  const auto dir = output_dir("compare-command");
  const auto result = run_nozero_bench("compare '" + fixture("results/tcg-base.json").string() + "' '" +
                                       fixture("results/tcg-regression.json").string() + "' --json '" +
                                       (dir / "compare.json").string() + "'");
  EXPECT_EQ(result.exit_status, 0) << result.output;
  EXPECT_NE(result.output.find("measured on TCG guest"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("Geometric mean of B / A"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("records_per_s"), std::string::npos);
  EXPECT_NE(result.output.find("slower"), std::string::npos);

  std::ifstream input(dir / "compare.json");
  const nlohmann::json document = nlohmann::json::parse(input);
  EXPECT_EQ(document["schema"], "nozero-bench/compare");
  EXPECT_FALSE(document["rows"].empty());
  EXPECT_EQ(document["b"]["measured_on"], "TCG guest");
}

TEST(CompareCommand, ExitsTwoOnBadInput) {
  for (const char* name : {"bad/truncated.json", "bad/schema-v2.json", "bad/foreign.json", "missing.json"}) {
    const auto result = run_nozero_bench("compare '" + fixture("results/tcg-base.json").string() + "' '" +
                                         fixture(std::string{"results/"} + name).string() + "'");
    EXPECT_EQ(result.exit_status, 2) << name << ": " << result.output;
    EXPECT_NE(result.output.find(name), std::string::npos) << result.output;
  }
  const auto other = run_nozero_bench("compare '" + fixture("results/tcg-base.json").string() + "' '" +
                                      fixture("results/tcg-other-setup.json").string() + "'");
  EXPECT_EQ(other.exit_status, 2) << other.output;
  const auto forced = run_nozero_bench("compare --force '" + fixture("results/tcg-base.json").string() + "' '" +
                                       fixture("results/tcg-other-setup.json").string() + "'");
  EXPECT_EQ(forced.exit_status, 0) << forced.output;
  EXPECT_NE(forced.output.find("setup differences (--force)"), std::string::npos) << forced.output;
}

}  // namespace
}  // namespace nozero::stats

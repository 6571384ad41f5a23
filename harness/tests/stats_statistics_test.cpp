// The statistics against reference values computed with numpy and scipy
// (fixtures/stats_reference.py writes fixtures/stats_reference.json).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "stats/statistics.h"

namespace nozero::stats {
namespace {

using nlohmann::json;

const json& reference() {
  static const json document = [] {
    std::ifstream input(std::string{NOZERO_TEST_FIXTURES} + "/stats_reference.json");
    return json::parse(input);
  }();
  return document;
}

std::vector<double> sample(const std::string& name) {
  return reference()["samples"][name].get<std::vector<double>>();
}

TEST(StatsSummary, MatchesNumpy) {
  for (const auto& [name, expected] : reference()["summaries"].items()) {
    SCOPED_TRACE(name);
    const Summary summary = summarize(sample(name));
    EXPECT_EQ(summary.n, expected["n"].get<std::size_t>());
    EXPECT_DOUBLE_EQ(summary.median, expected["median"].get<double>());
    EXPECT_NEAR(summary.mean, expected["mean"].get<double>(), 1e-12 * std::fabs(expected["mean"].get<double>()) + 1e-12);
    EXPECT_NEAR(summary.stddev, expected["stddev"].get<double>(), 1e-9);
    if (expected["cv"].is_null()) {
      EXPECT_TRUE(std::isnan(summary.cv));
    } else {
      EXPECT_NEAR(summary.cv, expected["cv"].get<double>(), 1e-12);
    }
    EXPECT_DOUBLE_EQ(summary.min, expected["min"].get<double>());
    EXPECT_DOUBLE_EQ(summary.max, expected["max"].get<double>());
  }
}

TEST(StatsQuantile, MatchesNumpyPercentile) {
  for (const auto& [name, quantiles] : reference()["quantiles"].items()) {
    std::vector<double> sorted = sample(name);
    std::sort(sorted.begin(), sorted.end());
    for (const auto& [q, expected] : quantiles.items()) {
      SCOPED_TRACE(name + " q=" + q);
      EXPECT_NEAR(quantile_sorted(sorted, std::stod(q)), expected.get<double>(), 1e-9);
    }
  }
}

TEST(StatsModifiedZ, MatchesReference) {
  for (const auto& [name, expected] : reference()["modified_z"].items()) {
    SCOPED_TRACE(name);
    const std::vector<double> scores = modified_z_scores(sample(name));
    ASSERT_EQ(scores.size(), expected.size());
    for (std::size_t i = 0; i < scores.size(); ++i) {
      EXPECT_NEAR(scores[i], expected[i].get<double>(), 1e-6) << "index " << i;
    }
  }
}

TEST(StatsOutliers, FlagsOnlyBeyondThreshold) {
  EXPECT_EQ(outlier_indices(sample("wall_with_outlier")), std::vector<std::size_t>{5});
  // MAD is 0 here, so the mean absolute deviation decides: 14.0 is an outlier.
  EXPECT_EQ(outlier_indices(sample("mostly_equal")), std::vector<std::size_t>{6});
  EXPECT_TRUE(outlier_indices(sample("constant")).empty());
  EXPECT_TRUE(outlier_indices(sample("records_baseline")).empty());
}

TEST(StatsMannWhitney, MatchesScipy) {
  for (const json& expected : reference()["mann_whitney"]) {
    const std::string x = expected["x"].get<std::string>();
    const std::string y = expected["y"].get<std::string>();
    SCOPED_TRACE(x + " vs " + y);
    const MannWhitneyResult result = mann_whitney_u(sample(x), sample(y));
    EXPECT_DOUBLE_EQ(result.u, expected["u"].get<double>());
    const double p = expected["p_value"].get<double>();
    EXPECT_NEAR(result.p_value, p, 1e-9 + 1e-9 * p);
    EXPECT_EQ(std::string{to_string(result.method)}, expected["method"].get<std::string>());
    EXPECT_EQ(result.ties, expected["ties"].get<bool>());
  }
}

TEST(StatsMannWhitney, SwitchesToApproximationAbove60) {
  std::vector<double> x(30);
  std::vector<double> y(30);
  for (std::size_t i = 0; i < 30; ++i) {
    x[i] = static_cast<double>(i);
    y[i] = static_cast<double>(i) + 0.5;
  }
  EXPECT_EQ(mann_whitney_u(x, y).method, PValueMethod::exact);
  y.push_back(100);
  EXPECT_EQ(mann_whitney_u(x, y).method, PValueMethod::asymptotic);
}

TEST(StatsMannWhitney, RejectsEmptySample) {
  const std::vector<double> empty;
  const std::vector<double> values{1, 2, 3};
  EXPECT_THROW(mann_whitney_u(empty, values), std::invalid_argument);
  EXPECT_THROW(mann_whitney_u(values, empty), std::invalid_argument);
}

TEST(StatsMinimumP, GivesRepetitionsNeeded) {
  EXPECT_NEAR(min_two_sided_p(3, 3), 0.1, 1e-12);          // 2 / C(6, 3)
  EXPECT_NEAR(min_two_sided_p(4, 4), 2.0 / 70, 1e-12);     // 2 / C(8, 4)
  EXPECT_NEAR(min_two_sided_p(5, 8), 2.0 / 1287, 1e-12);   // 2 / C(13, 5)
  EXPECT_EQ(min_repetitions_for(0.05), 4U);
  EXPECT_EQ(min_repetitions_for(0.01), 5U);  // 2 / C(10, 5) = 0.0079
  // The exact test on non-overlapping samples reaches exactly that floor.
  EXPECT_NEAR(mann_whitney_u(sample("small_a"), sample("small_b")).p_value, min_two_sided_p(3, 3), 1e-12);
}

TEST(StatsHodgesLehmann, MatchesPairwiseMedian) {
  for (const json& expected : reference()["hodges_lehmann"]) {
    const std::string x = expected["x"].get<std::string>();
    const std::string y = expected["y"].get<std::string>();
    SCOPED_TRACE(x + " to " + y);
    EXPECT_NEAR(hodges_lehmann_shift(sample(x), sample(y)), expected["shift"].get<double>(), 1e-9);
  }
}

TEST(StatsBootstrap, MatchesScipyPercentileInterval) {
  for (const json& expected : reference()["bootstrap_ratio"]) {
    const std::string baseline = expected["baseline"].get<std::string>();
    const std::string candidate = expected["candidate"].get<std::string>();
    SCOPED_TRACE(candidate + " / " + baseline);
    const RatioInterval interval = bootstrap_ratio(sample(baseline), sample(candidate), 20000);
    EXPECT_DOUBLE_EQ(interval.ratio, expected["ratio"].get<double>());
    // Two Monte Carlo estimates of the same percentiles (20000 resamples each, other
    // generators) differ by less than 0.0005 on these samples; 0.002 leaves room.
    EXPECT_NEAR(interval.low, expected["low"].get<double>(), 0.002);
    EXPECT_NEAR(interval.high, expected["high"].get<double>(), 0.002);
    EXPECT_LT(interval.low, interval.ratio);
    EXPECT_GT(interval.high, interval.ratio);
  }
}

TEST(StatsBootstrap, SameSeedSameInterval) {
  const RatioInterval first = bootstrap_ratio(sample("records_baseline"), sample("records_nozero"), 5000, 0.95, 42);
  const RatioInterval second = bootstrap_ratio(sample("records_baseline"), sample("records_nozero"), 5000, 0.95, 42);
  EXPECT_EQ(first.low, second.low);
  EXPECT_EQ(first.high, second.high);
  EXPECT_EQ(first.seed, 42U);
}

TEST(StatsBootstrap, ZeroBaselineMedianHasNoRatio) {
  const std::vector<double> zeros{0, 0, 0, 1};
  const std::vector<double> values{5, 6, 7};
  const RatioInterval interval = bootstrap_ratio(zeros, values, 1000);
  EXPECT_TRUE(std::isnan(interval.ratio));
  EXPECT_TRUE(std::isinf(interval.high));
}

TEST(StatsBootstrap, RejectsBadArguments) {
  const std::vector<double> values{1, 2, 3};
  EXPECT_THROW(bootstrap_ratio(values, values, 10), std::invalid_argument);
  EXPECT_THROW(bootstrap_ratio(values, values, 1000, 1.5), std::invalid_argument);
  const std::vector<double> with_nan{1, std::numeric_limits<double>::quiet_NaN()};
  EXPECT_THROW(bootstrap_ratio(with_nan, values), std::invalid_argument);
}

TEST(StatsSummary, RejectsEmptyAndNonFinite) {
  EXPECT_THROW(summarize(std::vector<double>{}), std::invalid_argument);
  EXPECT_THROW(summarize(std::vector<double>{1, std::numeric_limits<double>::infinity()}), std::invalid_argument);
}

}  // namespace
}  // namespace nozero::stats

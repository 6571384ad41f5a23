// Statistics over the repetitions of one metric: summaries, outliers, the
// Mann-Whitney U test, the Hodges-Lehmann shift and a bootstrap ratio interval.
//
// Every function takes the raw values of the repetitions (warmups excluded) and
// never reorders the caller's data. The values that tests compare against were
// computed independently with scipy; see harness/tests/fixtures/stats_reference.py.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace nozero::stats {

// Aggregates of one sample. stddev is the sample standard deviation (divisor
// n - 1, 0 for a single value); cv is stddev / |mean| (NaN when the mean is 0).
struct Summary {
  std::size_t n = 0;
  double median = 0;
  double mean = 0;
  double stddev = 0;
  double cv = 0;
  double min = 0;
  double max = 0;
};

// Throws std::invalid_argument when values is empty or holds NaN or infinity.
Summary summarize(std::span<const double> values);
double median(std::span<const double> values);

// Linear interpolation between order statistics, as numpy.percentile's default;
// q is in [0, 1]. Values must be sorted in ascending order.
double quantile_sorted(std::span<const double> sorted, double q);

// Modified z-scores of Iglewicz and Hoaglin: 0.6745 * (x - median) / MAD, where MAD
// is the median absolute deviation from the median. When MAD is 0 (more than half
// of the values are equal) the score uses the mean absolute deviation instead,
// (x - median) / (1.253314 * meanAD); when that is 0 too every score is 0.
std::vector<double> modified_z_scores(std::span<const double> values);

// The threshold Iglewicz and Hoaglin recommend for flagging an outlier.
inline constexpr double kOutlierZ = 3.5;

// Indices of the values whose |modified z-score| exceeds threshold.
std::vector<std::size_t> outlier_indices(std::span<const double> values,
                                         double threshold = kOutlierZ);

enum class PValueMethod { exact, asymptotic };
std::string_view to_string(PValueMethod method);

// Both samples together are at most this large for the exact test.
inline constexpr std::size_t kExactMaxTotal = 60;

struct MannWhitneyResult {
  // U of the first sample: pairs (x_i, y_j) with x_i > y_j, plus half the ties.
  double u = 0;
  double p_value = 1;  // two-sided
  PValueMethod method = PValueMethod::exact;
  bool ties = false;
};

// Two-sided Mann-Whitney U test of x against y.
//
// With n_x + n_y <= kExactMaxTotal the p-value is exact: it comes from the
// permutation distribution of the rank sum over the observed midranks, so ties are
// handled exactly, and it is min(1, 2 * min(P(U <= u), P(U >= u))). Larger samples
// use the normal approximation with the tie-corrected variance and a continuity
// correction of 0.5. Throws std::invalid_argument when either sample is empty.
MannWhitneyResult mann_whitney_u(std::span<const double> x, std::span<const double> y);

// The smallest two-sided p-value the exact test can return for samples of these
// sizes (2 / C(n_x + n_y, n_x), reached when the samples do not overlap and have
// no ties). When it is at least alpha no data can make the test significant.
double min_two_sided_p(std::size_t n_x, std::size_t n_y);

// The smallest equal number of repetitions per sample that can reach p < alpha.
std::size_t min_repetitions_for(double alpha);

// Hodges-Lehmann estimate of the shift from x to y: the median of y_j - x_i over
// all pairs, in the metric's unit.
double hodges_lehmann_shift(std::span<const double> x, std::span<const double> y);

struct RatioInterval {
  double ratio = 0;  // median(candidate) / median(baseline)
  double low = 0;
  double high = 0;
  double confidence = 0.95;
  std::size_t resamples = 0;
  std::uint64_t seed = 0;
};

inline constexpr std::size_t kDefaultResamples = 10000;
inline constexpr std::uint64_t kDefaultSeed = 20070628;

// Ratio of medians candidate / baseline with a percentile bootstrap interval: each
// resample draws both samples independently with replacement. The generator is
// std::mt19937_64 with an index draw that does not depend on the standard library,
// so one seed gives the same interval on every platform. A resample whose baseline
// median is 0 gives an infinite ratio; ratio is NaN when the baseline median is 0.
RatioInterval bootstrap_ratio(std::span<const double> baseline,
                              std::span<const double> candidate,
                              std::size_t resamples = kDefaultResamples,
                              double confidence = 0.95,
                              std::uint64_t seed = kDefaultSeed);

}  // namespace nozero::stats

#include "stats/statistics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

namespace nozero::stats {
namespace {

void require_finite(std::span<const double> values, const char* what) {
  if (values.empty()) {
    throw std::invalid_argument(std::string{what} + ": no values");
  }
  for (double value : values) {
    if (!std::isfinite(value)) {
      throw std::invalid_argument(std::string{what} + ": value " + std::to_string(value) +
                                  " is not a finite number");
    }
  }
}

std::vector<double> sorted_copy(std::span<const double> values) {
  std::vector<double> sorted(values.begin(), values.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

double median_sorted(std::span<const double> sorted) { return quantile_sorted(sorted, 0.5); }

// Uniform index in [0, bound) by rejection, so the stream of indices depends only
// on the mt19937_64 sequence, which the standard fixes.
std::size_t draw_index(std::mt19937_64& generator, std::size_t bound) {
  const std::uint64_t range = bound;
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                              std::numeric_limits<std::uint64_t>::max() % range;
  std::uint64_t draw = generator();
  while (draw >= limit) {
    draw = generator();
  }
  return static_cast<std::size_t>(draw % range);
}

}  // namespace

double quantile_sorted(std::span<const double> sorted, double q) {
  if (sorted.empty()) {
    throw std::invalid_argument("quantile: no values");
  }
  const double position = q * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  const double fraction = position - static_cast<double>(below);
  if (fraction == 0 || std::isinf(sorted[below]) || std::isinf(sorted[above])) {
    return fraction < 0.5 ? sorted[below] : sorted[above];
  }
  return sorted[below] + fraction * (sorted[above] - sorted[below]);
}

double median(std::span<const double> values) {
  require_finite(values, "median");
  return median_sorted(sorted_copy(values));
}

Summary summarize(std::span<const double> values) {
  require_finite(values, "summary");
  const std::vector<double> sorted = sorted_copy(values);
  Summary summary;
  summary.n = sorted.size();
  summary.median = median_sorted(sorted);
  summary.min = sorted.front();
  summary.max = sorted.back();
  summary.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / static_cast<double>(summary.n);

  double squares = 0;
  for (double value : sorted) {
    squares += (value - summary.mean) * (value - summary.mean);
  }
  summary.stddev = summary.n > 1 ? std::sqrt(squares / static_cast<double>(summary.n - 1)) : 0.0;
  summary.cv = summary.mean != 0 ? summary.stddev / std::fabs(summary.mean)
                                 : std::numeric_limits<double>::quiet_NaN();
  return summary;
}

std::vector<double> modified_z_scores(std::span<const double> values) {
  require_finite(values, "modified z-score");
  const double center = median(values);

  std::vector<double> deviations;
  deviations.reserve(values.size());
  for (double value : values) {
    deviations.push_back(std::fabs(value - center));
  }
  const double mad = median(deviations);
  const double mean_deviation =
      std::accumulate(deviations.begin(), deviations.end(), 0.0) / static_cast<double>(values.size());

  // 0.6745 is the 0.75 quantile of the standard normal distribution, so MAD / 0.6745
  // estimates the standard deviation of normal data; 1.253314 (sqrt(pi / 2)) does the
  // same for the mean absolute deviation.
  std::vector<double> scores;
  scores.reserve(values.size());
  for (double value : values) {
    if (mad > 0) {
      scores.push_back(0.6745 * (value - center) / mad);
    } else if (mean_deviation > 0) {
      scores.push_back((value - center) / (1.253314 * mean_deviation));
    } else {
      scores.push_back(0.0);
    }
  }
  return scores;
}

std::vector<std::size_t> outlier_indices(std::span<const double> values, double threshold) {
  const std::vector<double> scores = modified_z_scores(values);
  std::vector<std::size_t> indices;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (std::fabs(scores[i]) > threshold) {
      indices.push_back(i);
    }
  }
  return indices;
}

double hodges_lehmann_shift(std::span<const double> x, std::span<const double> y) {
  require_finite(x, "Hodges-Lehmann shift");
  require_finite(y, "Hodges-Lehmann shift");
  std::vector<double> differences;
  differences.reserve(x.size() * y.size());
  for (double a : x) {
    for (double b : y) {
      differences.push_back(b - a);
    }
  }
  std::sort(differences.begin(), differences.end());
  return median_sorted(differences);
}

RatioInterval bootstrap_ratio(std::span<const double> baseline, std::span<const double> candidate,
                              std::size_t resamples, double confidence, std::uint64_t seed) {
  require_finite(baseline, "bootstrap ratio");
  require_finite(candidate, "bootstrap ratio");
  if (resamples < 100) {
    throw std::invalid_argument("bootstrap ratio: " + std::to_string(resamples) +
                                " resamples are too few for a percentile interval; use at least 100");
  }
  if (!(confidence > 0 && confidence < 1)) {
    throw std::invalid_argument("bootstrap ratio: confidence " + std::to_string(confidence) +
                                " is not between 0 and 1");
  }

  RatioInterval interval;
  interval.confidence = confidence;
  interval.resamples = resamples;
  interval.seed = seed;
  const double baseline_median = median(baseline);
  interval.ratio = baseline_median != 0 ? median(candidate) / baseline_median
                                        : std::numeric_limits<double>::quiet_NaN();

  std::mt19937_64 generator(seed);
  std::vector<double> ratios(resamples);
  std::vector<double> base_draw(baseline.size());
  std::vector<double> cand_draw(candidate.size());
  for (double& ratio : ratios) {
    for (double& value : base_draw) {
      value = baseline[draw_index(generator, baseline.size())];
    }
    for (double& value : cand_draw) {
      value = candidate[draw_index(generator, candidate.size())];
    }
    std::sort(base_draw.begin(), base_draw.end());
    std::sort(cand_draw.begin(), cand_draw.end());
    const double denominator = median_sorted(base_draw);
    ratio = denominator != 0 ? median_sorted(cand_draw) / denominator
                             : std::numeric_limits<double>::infinity();
  }

  std::sort(ratios.begin(), ratios.end());
  const double tail = (1 - confidence) / 2;
  interval.low = quantile_sorted(ratios, tail);
  interval.high = quantile_sorted(ratios, 1 - tail);
  return interval;
}

}  // namespace nozero::stats

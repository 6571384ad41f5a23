// The Mann-Whitney U test: exact permutation p-values for small samples (ties
// included), the normal approximation for large ones.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "stats/statistics.h"

namespace nozero::stats {
namespace {

struct Ranked {
  // Twice the midrank of every pooled value, so ties stay integers: the first
  // n_x entries belong to x, the rest to y.
  std::vector<std::int64_t> doubled_ranks;
  // Sizes of the groups of equal values, for the variance correction.
  std::vector<std::size_t> tie_sizes;
};

Ranked rank_pooled(std::span<const double> x, std::span<const double> y) {
  const std::size_t total = x.size() + y.size();
  std::vector<double> pooled;
  pooled.reserve(total);
  pooled.insert(pooled.end(), x.begin(), x.end());
  pooled.insert(pooled.end(), y.begin(), y.end());

  std::vector<std::size_t> order(total);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return pooled[a] < pooled[b]; });

  Ranked ranked;
  ranked.doubled_ranks.resize(total);
  std::size_t start = 0;
  while (start < total) {
    std::size_t end = start + 1;
    while (end < total && pooled[order[end]] == pooled[order[start]]) {
      ++end;
    }
    // Ranks start + 1 .. end share their mean; twice that mean is start + 1 + end.
    const auto doubled = static_cast<std::int64_t>(start + 1 + end);
    for (std::size_t i = start; i < end; ++i) {
      ranked.doubled_ranks[order[i]] = doubled;
    }
    ranked.tie_sizes.push_back(end - start);
    start = end;
  }
  return ranked;
}

// P(W <= w) and P(W >= w) for the doubled rank sum W of n_x values drawn without
// replacement from the pooled doubled ranks: the permutation distribution under the
// null hypothesis. A dynamic programme over (values chosen, sum) counts the subsets;
// counts reach C(60, 30) ~ 1.2e17, so they are kept as doubles.
std::pair<double, double> exact_tails(const std::vector<std::int64_t>& doubled_ranks, std::size_t n_x,
                                      std::int64_t observed) {
  const std::int64_t max_sum = std::accumulate(doubled_ranks.begin(), doubled_ranks.end(), std::int64_t{0});
  const auto width = static_cast<std::size_t>(max_sum + 1);
  // ways[k * width + s]: subsets of k values processed so far with sum s.
  std::vector<double> ways((n_x + 1) * width, 0.0);
  ways[0] = 1.0;
  std::size_t processed = 0;
  for (std::int64_t rank : doubled_ranks) {
    ++processed;
    const std::size_t top = std::min(processed, n_x);
    for (std::size_t k = top; k >= 1; --k) {
      double* row = &ways[k * width];
      const double* previous = &ways[(k - 1) * width];
      for (std::size_t s = width - 1; s >= static_cast<std::size_t>(rank); --s) {
        row[s] += previous[s - static_cast<std::size_t>(rank)];
      }
    }
  }

  const double* row = &ways[n_x * width];
  double total = 0;
  double at_most = 0;
  double at_least = 0;
  for (std::size_t s = 0; s < width; ++s) {
    total += row[s];
    if (static_cast<std::int64_t>(s) <= observed) {
      at_most += row[s];
    }
    if (static_cast<std::int64_t>(s) >= observed) {
      at_least += row[s];
    }
  }
  return {at_most / total, at_least / total};
}

double normal_upper_tail(double z) { return 0.5 * std::erfc(z / std::sqrt(2.0)); }

}  // namespace

std::string_view to_string(PValueMethod method) {
  return method == PValueMethod::exact ? "exact" : "normal approximation";
}

MannWhitneyResult mann_whitney_u(std::span<const double> x, std::span<const double> y) {
  if (x.empty() || y.empty()) {
    throw std::invalid_argument("Mann-Whitney U: each sample needs at least one value (got " +
                                std::to_string(x.size()) + " and " + std::to_string(y.size()) + ")");
  }
  const Ranked ranked = rank_pooled(x, y);
  const double n_x = static_cast<double>(x.size());
  const double n_y = static_cast<double>(y.size());
  const double n = n_x + n_y;

  std::int64_t doubled_sum_x = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    doubled_sum_x += ranked.doubled_ranks[i];
  }

  MannWhitneyResult result;
  result.u = static_cast<double>(doubled_sum_x) / 2 - n_x * (n_x + 1) / 2;
  result.ties = ranked.tie_sizes.size() < x.size() + y.size();

  if (x.size() + y.size() <= kExactMaxTotal) {
    result.method = PValueMethod::exact;
    const auto [at_most, at_least] = exact_tails(ranked.doubled_ranks, x.size(), doubled_sum_x);
    result.p_value = std::min(1.0, 2 * std::min(at_most, at_least));
    return result;
  }

  result.method = PValueMethod::asymptotic;
  double tie_term = 0;
  for (std::size_t t : ranked.tie_sizes) {
    const double size = static_cast<double>(t);
    tie_term += size * size * size - size;
  }
  const double mean = n_x * n_y / 2;
  const double variance = n_x * n_y / 12 * ((n + 1) - tie_term / (n * (n - 1)));
  if (variance <= 0) {
    // Every value is equal: no evidence of a shift.
    result.p_value = 1;
    return result;
  }
  const double distance = std::fabs(result.u - mean) - 0.5;
  const double z = std::max(distance, 0.0) / std::sqrt(variance);
  result.p_value = std::min(1.0, 2 * normal_upper_tail(z));
  return result;
}

double min_two_sided_p(std::size_t n_x, std::size_t n_y) {
  // 2 / C(n_x + n_y, n_x), computed in logarithms so large sizes do not overflow.
  const double log_choose = std::lgamma(static_cast<double>(n_x + n_y) + 1) -
                            std::lgamma(static_cast<double>(n_x) + 1) -
                            std::lgamma(static_cast<double>(n_y) + 1);
  return std::min(1.0, 2 * std::exp(-log_choose));
}

std::size_t min_repetitions_for(double alpha) {
  std::size_t n = 1;
  while (min_two_sided_p(n, n) >= alpha) {
    ++n;
  }
  return n;
}

}  // namespace nozero::stats

#include "run_bound.h"

#include <thread>

#include "nozero/cli.h"

namespace workloads {

void add_bound_options(CLI::App& app, RunBound& bound, std::uint64_t default_iterations) {
  constexpr std::uint64_t kMaxIterations = 1ull << 40;
  constexpr double kMaxSeconds = 7 * 24 * 3600;
  constexpr std::uint64_t kMaxSleepMs = 3600 * 1000;
  nozero::cli::add_count_option(app, "-i,--iterations", bound.iterations, 1, kMaxIterations,
                                "Stop after this many iterations (default " + std::to_string(default_iterations) +
                                    " when -S is not given)")
      ->default_str("");
  nozero::cli::add_seconds_option(app, "-S,--seconds", bound.seconds, 0.01, kMaxSeconds,
                                  "Stop after this many seconds; with -i, whichever comes first")
      ->default_str("");
  nozero::cli::add_count_option(app, "--sleep-ms", bound.sleep_ms, 0, kMaxSleepMs,
                                "Pause between iterations, in milliseconds");
}

void pause_between_iterations(const RunBound& bound) {
  if (bound.sleep_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(bound.sleep_ms));
}

}  // namespace workloads

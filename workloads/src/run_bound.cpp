#include "run_bound.h"

#include <algorithm>
#include <string>
#include <thread>

#include "nozero/cli.h"

namespace workloads {

void add_bound_options(CLI::App& app, RunBound& bound, std::uint64_t default_iterations) {
  std::string iterations_default = default_iterations == 0
                                       ? std::string("default: until SIGINT or SIGTERM when -S is not given")
                                       : "default " + std::to_string(default_iterations) + " when -S is not given";
  constexpr std::uint64_t kMaxIterations = 1ull << 40;
  constexpr double kMaxSeconds = 7 * 24 * 3600;
  constexpr std::uint64_t kMaxSleepMs = 3600 * 1000;
  nozero::cli::add_count_option(app, "-i,--iterations", bound.iterations, 1, kMaxIterations,
                                "Stop after this many iterations (" + iterations_default + ")")
      ->default_str("");
  nozero::cli::add_seconds_option(app, "-S,--seconds", bound.seconds, 0.01, kMaxSeconds,
                                  "Stop after this many seconds; with -i, whichever comes first")
      ->default_str("");
  nozero::cli::add_count_option(app, "--sleep-ms", bound.sleep_ms, 0, kMaxSleepMs,
                                "Pause between iterations, in milliseconds");
}

void pause_between_iterations(const RunBound& bound) {
  // Short slices, because sleep_for resumes after a signal instead of returning.
  constexpr auto kSlice = std::chrono::milliseconds(10);
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(bound.sleep_ms);
  for (auto now = std::chrono::steady_clock::now(); now < until && !bound.stop_requested();
       now = std::chrono::steady_clock::now()) {
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(kSlice, until - now));
  }
}

}  // namespace workloads

// How long the page-probing loops run: a number of iterations, a number of seconds,
// or both (whichever ends first), with an optional pause between iterations.
#pragma once

#include <csignal>
#include <cstdint>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "nozero/clock.h"

namespace workloads {

struct RunBound {
  std::uint64_t iterations = 0;  // 0 when not given: no iteration limit
  double seconds = 0;            // 0 when not given: no time limit
  std::uint64_t sleep_ms = 0;
  // Set to non-zero (by a signal handler) to end the run after the current iteration.
  const volatile std::sig_atomic_t* stop_flag = nullptr;

  // Uses `default_iterations` when neither -i nor -S was given. A default of 0
  // leaves the run unbounded, so only `stop_flag` ends it.
  void resolve(std::uint64_t default_iterations) {
    if (iterations == 0 && seconds == 0) iterations = default_iterations;
  }

  bool stop_requested() const { return stop_flag != nullptr && *stop_flag != 0; }

  // True while another iteration may start.
  bool allows(std::uint64_t completed, const nozero::Stopwatch& clock) const {
    if (stop_requested()) return false;
    if (iterations != 0 && completed >= iterations) return false;
    if (seconds != 0 && clock.elapsed_s() >= seconds) return false;
    return true;
  }

  nlohmann::ordered_json to_json() const {
    nlohmann::ordered_json bound{{"iterations", nullptr}, {"seconds", nullptr}, {"sleep_ms", sleep_ms}};
    if (iterations != 0) bound["iterations"] = iterations;
    if (seconds != 0) bound["seconds"] = seconds;
    return bound;
  }
};

// -i,--iterations, -S,--seconds and --sleep-ms.
void add_bound_options(CLI::App& app, RunBound& bound, std::uint64_t default_iterations);

// Sleeps bound.sleep_ms milliseconds, if any, waking early when a stop is requested.
void pause_between_iterations(const RunBound& bound);

}  // namespace workloads

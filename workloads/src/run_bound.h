// How long the page-probing loops run: a number of iterations, a number of seconds,
// or both (whichever ends first), with an optional pause between iterations.
#pragma once

#include <cstdint>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "nozero/clock.h"

namespace workloads {

struct RunBound {
  std::uint64_t iterations = 0;  // 0 until given or resolved
  double seconds = 0;            // 0 when not given
  std::uint64_t sleep_ms = 0;

  // Uses `default_iterations` when neither -i nor -S was given.
  void resolve(std::uint64_t default_iterations) {
    if (iterations == 0 && seconds == 0) iterations = default_iterations;
  }

  // True while another iteration may start.
  bool allows(std::uint64_t completed, const nozero::Stopwatch& clock) const {
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

// Sleeps bound.sleep_ms milliseconds, if any.
void pause_between_iterations(const RunBound& bound);

}  // namespace workloads

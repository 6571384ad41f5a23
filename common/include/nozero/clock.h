// Time sources of the workloads. Intervals use CLOCK_MONOTONIC, which NTP slews but
// never steps, so a run that crosses a clock adjustment still measures the right time.
#pragma once

#include <chrono>
#include <string>

namespace nozero {

// libstdc++ implements steady_clock with clock_gettime(CLOCK_MONOTONIC).
using MonotonicClock = std::chrono::steady_clock;
static_assert(MonotonicClock::is_steady);

// The name written to the "clock" field of every result document.
inline constexpr const char* kClockName = "CLOCK_MONOTONIC";

inline double seconds_between(MonotonicClock::time_point start, MonotonicClock::time_point end) {
  return std::chrono::duration<double>(end - start).count();
}

class Stopwatch {
 public:
  Stopwatch() : start_(MonotonicClock::now()) {}
  void restart() { start_ = MonotonicClock::now(); }
  double elapsed_s() const { return seconds_between(start_, MonotonicClock::now()); }
  MonotonicClock::time_point start() const { return start_; }

 private:
  MonotonicClock::time_point start_;
};

// Converts seconds to a monotonic-clock duration, for deadlines such as "-S 2.5".
inline MonotonicClock::duration to_duration(double seconds) {
  return std::chrono::duration_cast<MonotonicClock::duration>(std::chrono::duration<double>(seconds));
}

// The current UTC time as ISO 8601 with second resolution, e.g. "2026-12-04T19:40:22Z".
std::string utc_timestamp_now();

}  // namespace nozero

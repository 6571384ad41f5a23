// Resource usage (getrusage/wait4) in the units the result documents use.
#pragma once

#include <sys/resource.h>

#include <cstdint>

#include <nlohmann/json.hpp>

namespace nozero {

struct ResourceUsage {
  double utime_s = 0;
  double stime_s = 0;
  // Peak resident set size. A difference of two captures keeps the later peak.
  std::int64_t maxrss_kib = 0;
  std::int64_t minflt = 0;
  std::int64_t majflt = 0;
  std::int64_t nvcsw = 0;
  std::int64_t nivcsw = 0;
};

ResourceUsage from_rusage(const struct rusage& usage);

// Calls getrusage(who); `who` is RUSAGE_SELF, RUSAGE_CHILDREN or RUSAGE_THREAD.
// Throws std::system_error on failure.
ResourceUsage capture_rusage(int who);

// The usage accumulated between two captures of the same kind.
ResourceUsage usage_between(const ResourceUsage& start, const ResourceUsage& end);

// {"utime_s", "stime_s", "maxrss_kib", "minflt", "majflt", "nvcsw", "nivcsw"}
nlohmann::ordered_json to_json(const ResourceUsage& usage);

}  // namespace nozero

#include "nozero/rusage.h"

#include <cerrno>
#include <system_error>

namespace nozero {
namespace {

double to_seconds(const struct timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

}  // namespace

ResourceUsage from_rusage(const struct rusage& usage) {
  ResourceUsage result;
  result.utime_s = to_seconds(usage.ru_utime);
  result.stime_s = to_seconds(usage.ru_stime);
  result.maxrss_kib = usage.ru_maxrss;  // Linux reports kilobytes
  result.minflt = usage.ru_minflt;
  result.majflt = usage.ru_majflt;
  result.nvcsw = usage.ru_nvcsw;
  result.nivcsw = usage.ru_nivcsw;
  return result;
}

ResourceUsage capture_rusage(int who) {
  struct rusage usage {};
  if (::getrusage(who, &usage) != 0) {
    throw std::system_error(errno, std::generic_category(), "getrusage failed");
  }
  return from_rusage(usage);
}

ResourceUsage usage_between(const ResourceUsage& start, const ResourceUsage& end) {
  ResourceUsage delta;
  delta.utime_s = end.utime_s - start.utime_s;
  delta.stime_s = end.stime_s - start.stime_s;
  delta.maxrss_kib = end.maxrss_kib;
  delta.minflt = end.minflt - start.minflt;
  delta.majflt = end.majflt - start.majflt;
  delta.nvcsw = end.nvcsw - start.nvcsw;
  delta.nivcsw = end.nivcsw - start.nivcsw;
  return delta;
}

nlohmann::ordered_json to_json(const ResourceUsage& usage) {
  return nlohmann::ordered_json{
      {"utime_s", usage.utime_s}, {"stime_s", usage.stime_s}, {"maxrss_kib", usage.maxrss_kib},
      {"minflt", usage.minflt},   {"majflt", usage.majflt},   {"nvcsw", usage.nvcsw},
      {"nivcsw", usage.nivcsw},
  };
}

}  // namespace nozero

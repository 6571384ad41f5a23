// Hardware counters of a workload and all its descendants: cycles and instructions
// split user/kernel, and last-level cache misses, encoded by libpfm4 through the
// benches' counter library and opened on the workload's pid with inherit set.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <linux/perf_event.h>
#include <nlohmann/json.hpp>

namespace nozero::run {

// Opens a perf event for a pid; returns the fd, or -errno.
using PerfEventOpener = std::function<int(const perf_event_attr& attr, pid_t pid)>;

class ChildCounters {
 public:
  // Probes the PMU with the counter library: available() is false when user-space
  // cycles cannot be counted, with the library's reason.
  static ChildCounters probe();
  // For tests: availability and the opener given directly.
  ChildCounters(bool available, std::string reason, PerfEventOpener opener);
  ChildCounters(ChildCounters&&) noexcept;
  ChildCounters& operator=(ChildCounters&&) noexcept;
  ~ChildCounters();

  bool available() const { return available_; }
  const std::string& reason() const { return reason_; }

  // Opens every counter on `pid`, disabled until the pid's next exec, counting the
  // process and every descendant it creates afterwards. Call it before the exec.
  void attach(pid_t pid);
  // The results.json "hw_counters" block: counts, or available false and reason.
  nlohmann::ordered_json read() const;

 private:
  struct Counter {
    std::string name;
    int fd = -1;
  };
  bool available_ = false;
  std::string reason_;
  PerfEventOpener opener_;
  std::vector<Counter> counters_;
  std::vector<std::string> failed_;
};

}  // namespace nozero::run

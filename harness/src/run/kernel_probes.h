// Readers of what the kernel counts during a run: /proc/vmstat and the ftrace
// function profiler of the clear_page family.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nozero::run {

using Vmstat = std::map<std::string, std::int64_t>;

// The whole file, or nullopt (with errno set) when it cannot be opened. For /proc,
// /sys and tracefs files, whose size stat(2) does not give.
std::optional<std::string> read_text_file(const std::filesystem::path& path);

// Parses the "name value" lines of /proc/vmstat.
Vmstat parse_vmstat(const std::string& text);
// Throws std::runtime_error when the file cannot be read.
Vmstat read_vmstat(const std::filesystem::path& path = "/proc/vmstat");
// after - before for every counter present in both.
Vmstat vmstat_delta(const Vmstat& before, const Vmstat& after);

// The counters results.json keeps: faults, allocations, THP and the series' own.
// Counters the kernel lacks (the nozero ones on an unpatched kernel) are left out.
nlohmann::ordered_json selected_vmstat_json(const Vmstat& delta);

struct FunctionStat {
  std::int64_t hits = 0;
  double total_us = 0;
  double avg_us() const { return hits == 0 ? 0 : total_us / static_cast<double>(hits); }
};

// after - before per function: the calls and time of one run.
std::map<std::string, FunctionStat> profile_difference(const std::map<std::string, FunctionStat>& before,
                                                       const std::map<std::string, FunctionStat>& after);

// Parses one trace_stat/functionN file of the function profiler.
std::map<std::string, FunctionStat> parse_function_profile(const std::string& text);

// The ftrace function profiler limited to a few functions. The profiler times each
// call with the function-graph tracer, so it adds a fixed cost to every call it
// counts, and runs with fewer calls pay less of it. It can only count functions
// with an ftrace call site (listed in available_filter_functions).
class FunctionProfiler {
 public:
  // Finds tracefs (mounting it at /sys/kernel/tracing when allowed and missing)
  // and the wanted functions the kernel can trace. available() is false, with the
  // reason, when tracefs, the profiler or every wanted function is missing, or the
  // filter cannot be set.
  FunctionProfiler(const std::vector<std::string>& wanted, bool may_mount);

  bool available() const { return reason_.empty(); }
  const std::string& unavailable_reason() const { return reason_; }
  // The wanted functions the kernel has, in the order asked.
  const std::vector<std::string>& functions() const { return functions_; }
  const std::vector<std::string>& missing() const { return missing_; }

  // Enables the profiler, which resets its statistics. Enabling and disabling it
  // patch the call sites of the profiled functions. Under TCG, a CPU that runs one
  // of them while another CPU patches it can hit the breakpoint the patching
  // leaves ("Oops: int3"). So the guest runner enables it once per boot, before
  // any workload or leak checker runs, and never disables it.
  void start();
  // The per-function sums over every CPU since start(); a run takes the
  // difference of two reads.
  std::map<std::string, FunctionStat> read() const;
  // Disables the profiler and returns read().
  std::map<std::string, FunctionStat> stop();

  const std::filesystem::path& tracefs() const { return tracefs_; }

 private:
  std::filesystem::path tracefs_;
  std::vector<std::string> functions_;
  std::vector<std::string> missing_;
  std::string reason_;
};

// Returns the mounted tracefs directory, or nullopt.
std::optional<std::filesystem::path> find_tracefs();

// Parses /sys/kernel/tracing/kprobe_profile: event name to hit count.
std::map<std::string, std::int64_t> parse_kprobe_profile(const std::string& text);

// Counts calls of kernel functions through kprobe events (group nozero_bench).
// The clear_page_* variants are assembly without an ftrace call site, so the
// function profiler cannot see them; a kprobe can. The counter reads the hit
// counts of kprobe_profile and reports differences between two reads. While it
// exists the ring buffer is off (tracing_on 0), so a hit costs the probe and not
// a trace record. The function profiler does not use the ring buffer.
class KprobeHitCounter {
 public:
  KprobeHitCounter(const std::filesystem::path& tracefs, const std::vector<std::string>& functions);
  KprobeHitCounter(const KprobeHitCounter&) = delete;
  KprobeHitCounter& operator=(const KprobeHitCounter&) = delete;
  // Disables and removes the probes, and turns the ring buffer back on.
  ~KprobeHitCounter();

  bool available() const { return !functions_.empty(); }
  // Why no probe could be placed (empty when available()).
  const std::string& unavailable_reason() const { return reason_; }
  const std::vector<std::string>& functions() const { return functions_; }
  // Functions that could not be probed, with the reason.
  const std::map<std::string, std::string>& failed() const { return failed_; }
  // Current hit counts of the probed functions.
  std::map<std::string, std::int64_t> read() const;

 private:
  std::filesystem::path tracefs_;
  std::vector<std::string> functions_;
  std::map<std::string, std::string> failed_;
  std::string reason_;
};

}  // namespace nozero::run

// Shared parts of the nozero-bench microbenchmark binaries: the main function, the
// benchmark context, the event counters and the per-page counters.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "nozero/counters.h"
#include "nozero/nozero_support.h"
#include "system_info.h"

namespace nozero::benches {

inline constexpr std::size_t kPageSize = 4096;
inline constexpr std::size_t kHugePageSize = std::size_t{2} << 20;

// State shared by the benchmarks of one process, set up once before they run.
struct Environment {
  NozeroSupport nozero;
  std::string thp_enabled;
  std::string thp_defrag;
  counters::CounterSet counters;
};

// Returns the environment; only valid inside benchmarks started by run_main().
Environment& environment();

// Parses Google Benchmark's flags, sets up the environment, records it in the JSON
// context, registers the binary's benchmarks and runs them. Returns the exit
// status: 2 for unknown flags or a filter that matches nothing.
int run_main(int argc, char** argv, const std::function<void()>& register_benchmarks);

// Counts events from the start of the timed loop to its end, and stores every
// counter's per-iteration value in the benchmark's counters. Build it right before
// the loop and call finish() right after it.
class CountedLoop {
 public:
  explicit CountedLoop(benchmark::State& state);
  void finish();

 private:
  benchmark::State& state_;
};

// Sets pages_per_s, ns_per_page and bytes_per_second for pages 4 KiB pages handled
// per iteration. Rates use the benchmark's time: thread CPU time by default.
void set_page_counters(benchmark::State& state, double pages_per_iteration);

// Stores after - before of the named /proc/vmstat counters, per iteration, under
// "vmstat_" + name. Counters missing from either snapshot are skipped.
void set_vmstat_counters(benchmark::State& state, const VmStat& before, const VmStat& after,
                         const std::vector<std::string>& names);

// Collects notes for a benchmark's label, joined with "; ".
class Label {
 public:
  void add(const std::string& note);
  void apply(benchmark::State& state) const;

 private:
  std::string text_;
};

}  // namespace nozero::benches

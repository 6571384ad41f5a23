#include "bench_support.h"

#include <cstdio>
#include <memory>
#include <optional>
#include <string_view>

namespace nozero::benches {
namespace {

std::optional<Environment> g_environment;

// Google Benchmark rejects a second context entry with the same key, so a label
// given as --benchmark_context=measured_on=... replaces the detected one.
bool context_flag_sets(int argc, char** argv, std::string_view key) {
  constexpr std::string_view kFlag = "--benchmark_context=";
  const std::string entry = std::string(key) + "=";
  for (int i = 1; i < argc; ++i) {
    const std::string_view argument = argv[i];
    if (!argument.starts_with(kFlag)) {
      continue;
    }
    const std::string_view pairs = argument.substr(kFlag.size());
    if (pairs.starts_with(entry) || pairs.find("," + entry) != std::string_view::npos) {
      return true;
    }
  }
  return false;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string text;
  for (const std::string& part : parts) {
    if (!text.empty()) {
      text += separator;
    }
    text += part;
  }
  return text;
}

void add_context(bool measured_on_given, const Environment& env) {
  benchmark::AddCustomContext("nozero_bench_version", NOZERO_BENCH_VERSION);
  if (!measured_on_given) {
    benchmark::AddCustomContext("measured_on", detect_measured_on());
  }
  benchmark::AddCustomContext("kernel_release", kernel_release());
  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext("thp_enabled", env.thp_enabled);
  benchmark::AddCustomContext("thp_defrag", env.thp_defrag);
  benchmark::AddCustomContext("nozero_kernel_support", std::string(to_string(env.nozero.support)));
  benchmark::AddCustomContext("nozero_detail", env.nozero.detail);

  const counters::CounterSet& set = env.counters;
  benchmark::AddCustomContext("counter_mode", std::string(set.mode_label()));
  if (!set.fallback_reason().empty()) {
    benchmark::AddCustomContext("counter_fallback_reason", set.fallback_reason());
  }
  benchmark::AddCustomContext("counters", join(set.names(), ","));
  std::vector<std::string> unavailable;
  for (const counters::Unavailable& entry : set.unavailable()) {
    unavailable.push_back(entry.name + ": " + entry.reason);
  }
  if (!unavailable.empty()) {
    benchmark::AddCustomContext("counters_unavailable", join(unavailable, "; "));
  }
  benchmark::AddCustomContext("counter_scope",
                              "calling thread, user and kernel, per iteration of the timed loop");
  // Other jobs on a shared machine stretch real_time but not the thread's CPU time,
  // which includes the kernel time of its faults.
  benchmark::AddCustomContext("rate_time", "cpu_time (thread CPU time, user and kernel)");
}

void print_counter_mode(const counters::CounterSet& set) {
  std::fprintf(stderr, "counters: %.*s", static_cast<int>(set.mode_label().size()),
               set.mode_label().data());
  if (!set.fallback_reason().empty()) {
    std::fprintf(stderr, " (%s)", set.fallback_reason().c_str());
  }
  std::fprintf(stderr, "\n");
  for (const counters::Unavailable& entry : set.unavailable()) {
    std::fprintf(stderr, "counters: %s left out: %s\n", entry.name.c_str(), entry.reason.c_str());
  }
}

}  // namespace

Environment& environment() { return g_environment.value(); }

int run_main(int argc, char** argv, const std::function<void()>& register_benchmarks) {
  // Initialize() removes the flags it consumed from argv.
  const bool measured_on_given = context_flag_sets(argc, argv, "measured_on");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
    return 2;
  }

  g_environment.emplace(Environment{
      detect_nozero_support(),
      thp_setting("enabled"),
      thp_setting("defrag"),
      counters::CounterSet::open(counters::make_perf_event_source()),
  });
  add_context(measured_on_given, *g_environment);
  print_counter_mode(g_environment->counters);

  register_benchmarks();
  const std::size_t run_count = benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_environment.reset();
  // Google Benchmark has already named the filter that matched nothing.
  return run_count == 0 ? 2 : 0;
}

CountedLoop::CountedLoop(benchmark::State& state) : state_(state) { environment().counters.start(); }

void CountedLoop::finish() {
  counters::CounterSet& set = environment().counters;
  set.stop();

  std::vector<std::string> multiplexed;
  for (const counters::Reading& reading : set.read()) {
    state_.counters[reading.name] = benchmark::Counter(reading.value, benchmark::Counter::kAvgIterations);
    if (reading.multiplexed) {
      multiplexed.push_back(reading.name);
    }
  }
  if (!multiplexed.empty()) {
    state_.counters["counters_multiplexed"] = static_cast<double>(multiplexed.size());
  }
}

void set_page_counters(benchmark::State& state, double pages_per_iteration) {
  using benchmark::Counter;
  state.counters["pages_per_s"] = Counter(pages_per_iteration, Counter::kIsIterationInvariantRate);
  // Inverting a rate of (pages x 1e-9) per second gives nanoseconds per page.
  state.counters["ns_per_page"] =
      Counter(pages_per_iteration * 1e-9, Counter::kIsIterationInvariantRate | Counter::kInvert);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(pages_per_iteration * kPageSize));
}

void set_vmstat_counters(benchmark::State& state, const VmStat& before, const VmStat& after,
                         const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    const auto old_value = before.find(name);
    const auto new_value = after.find(name);
    if (old_value == before.end() || new_value == after.end()) {
      continue;
    }
    const double delta = static_cast<double>(new_value->second - old_value->second);
    state.counters["vmstat_" + name] = benchmark::Counter(delta, benchmark::Counter::kAvgIterations);
  }
}

void Label::add(const std::string& note) {
  if (!text_.empty()) {
    text_ += "; ";
  }
  text_ += note;
}

void Label::apply(benchmark::State& state) const {
  if (!text_.empty()) {
    state.SetLabel(text_);
  }
}

}  // namespace nozero::benches

// A suite: which workloads `nozero-bench run` measures, in which arms, how often,
// and in what kind of guest. Suites are TOML files; docs/running.md describes
// every key. The built-in suites (smoke, default, full) are compiled into the binary
// from harness/suites/.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nozero::run {

// baseline: patched kernel, MAP_NOZERO not requested. nozero: requested.
// unpatched: the kernel built with --no-patches, MAP_NOZERO not requested.
enum class Arm { baseline, nozero, unpatched };

std::string_view to_string(Arm arm);
// Returns nullopt for a name that is not an arm.
std::optional<Arm> parse_arm(std::string_view name);

struct Workload {
  std::string name;
  // One of kPrograms in programs.h.
  std::string program;
  // Arguments given to the program in every arm. The nozero arm adds the program's
  // own request (-N, or nozero-exec in front of the command).
  std::vector<std::string> args;
  // program "command": the full argv. program "make": unused.
  std::vector<std::string> command;
  // How the nozero arm requests MAP_NOZERO: "flag" (the program's -N) or "exec"
  // (under nozero-exec, the process-wide opt-in that also covers malloc's brk heap).
  std::string nozero;
  // program "make": the source tree (see cc_tree.h) and the -j value.
  std::string tree;
  unsigned jobs = 0;
  std::vector<Arm> arms;
  unsigned repetitions = 0;
  unsigned warmups = 0;
  // THP mode for this workload's runs; the guest switches it through sysfs.
  std::string thp;
  // Limit for one run, from start of the workload to its exit.
  unsigned timeout_s = 0;
  // The metric the summary ranks arms by, a key of the run's "metrics".
  std::string metric;
  // Whether smiffy scans for leaked pages during this workload's nozero runs.
  bool leak_check = true;
  // Line of the [[workload]] header, for messages about this workload.
  std::int64_t line = 0;
};

// A Google Benchmark binary from benches/, run once per boot in the guest and once
// on the host; its JSON goes into results.json "benchmarks".
struct Benchmark {
  std::string name;
  std::string binary;
  std::vector<std::string> args;
  double min_time_s = 0.05;
  bool on_host = true;
  bool in_guest = true;
  unsigned timeout_s = 120;
};

struct LeakCheck {
  bool enabled = true;
  unsigned uid = 1001;
  std::vector<std::string> args;
};

// The host reference runs of `nozero-bench run`: each workload's baseline on the
// running host kernel, the real-hardware side of the projection.
struct HostSettings {
  unsigned repetitions = 1;
  unsigned warmups = 1;
};

struct VmSettings {
  unsigned cpus = 2;
  std::uint64_t memory_mib = 2048;
  std::string thp = "madvise";
};

struct Suite {
  std::string name;
  std::string description;
  // The file the suite came from; empty for a built-in suite.
  std::filesystem::path path;
  std::string text;
  std::string sha256;
  std::optional<std::uint64_t> seed;
  // 0: all runs of one kernel in one boot. N: a new boot after N runs.
  unsigned runs_per_boot = 0;
  unsigned workload_uid = 1000;
  // perf record, the function profiler and the kprobes. Off, a run keeps its
  // timing, rusage, vmstat and leak check, without their overhead.
  bool profile = true;
  VmSettings vm;
  HostSettings host;
  LeakCheck leak_check;
  std::vector<Workload> workloads;
  std::vector<Benchmark> benchmarks;

  bool uses_arm(Arm arm) const;
  const Workload* find_workload(std::string_view name) const;
};

inline constexpr std::string_view kThpModes[] = {"never", "madvise", "always"};

// Parses a suite. source_name is the file path or "built-in suite NAME" and begins
// every error message, followed by the line and column. Throws CommandError
// (exit 2) for invalid TOML, an unknown key, a value of the wrong type or out of
// range, naming the accepted keys or values.
Suite parse_suite(std::string_view text, const std::string& source_name);

// Loads a built-in suite by name, or a suite file by path. A name that is neither a
// built-in suite nor an existing file is an error listing the built-in names.
Suite load_suite(const std::string& name_or_path);

struct BuiltinSuite {
  std::string_view name;
  std::string_view text;
};

// The suites of harness/suites/, embedded at build time.
const std::vector<BuiltinSuite>& builtin_suites();

}  // namespace nozero::run

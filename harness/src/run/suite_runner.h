// The host side of `nozero-bench run`: turns the schedule into boot plans, boots the
// guest through a vm::Executor for each boot, merges the captures into results.json
// (rewritten atomically after every run), and resumes an interrupted suite.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "run/boot_plan.h"
#include "run/progress.h"
#include "run/schedule.h"
#include "run/suite.h"
#include "vm/executor.h"

namespace nozero::run {

struct KernelImage {
  std::filesystem::path image;
  std::string release;
  std::string series_hash;
  bool patched = true;
  std::string key;
};

// Paths and programs a run needs, on the host and in the guest alike.
struct Toolbox {
  // The build's bin directory: workloads, smiffy, nozero-exec, benchmarks.
  std::filesystem::path bin_dir;
  // The nozero-bench binary itself (guest-run, run-exec).
  std::filesystem::path self;
  // The prepared source tree of program "make" (empty when no workload needs it).
  std::filesystem::path linux_tools_tree;
  // Base of the per-run scratch directories (/tmp/nozero-bench by default).
  std::filesystem::path scratch_base = "/tmp/nozero-bench";
};

struct SuiteRunOptions {
  std::filesystem::path result_dir;
  Toolbox toolbox;
  std::optional<KernelImage> patched;
  std::optional<KernelImage> unpatched;
  vm::Accelerator accelerator = vm::Accelerator::automatic;
  // Added to each boot's time limit for booting and power-off.
  unsigned boot_allowance_s = 180;
  // Host perf for `perf report`; empty leaves the profiles unsummarised.
  std::filesystem::path perf;
  // "host" in `run --host` mode, where a HostExecutor runs the plans on this
  // machine; empty for a guest, labelled from the accelerator it used.
  std::string host_label;
  // Set by the SIGINT handler: finish the current boot's bookkeeping and stop.
  const std::atomic<bool>* stop_requested = nullptr;
  std::function<void(const std::string&)> log;
};

// The argv, prepare commands and files of one run of a workload in an arm.
RunSpec make_run_spec(const Suite& suite, const Workload& workload, const PlannedRun& run,
                      const Toolbox& toolbox, const std::filesystem::path& result_dir);

// The Google Benchmark argv of a suite benchmark.
BenchmarkSpec make_benchmark_spec(const Benchmark& benchmark, const Toolbox& toolbox,
                                  const std::filesystem::path& output);

// "TCG guest" or "KVM guest".
std::string guest_label(vm::Accelerator accelerator);

class SuiteRunner {
 public:
  SuiteRunner(Suite suite, SuiteRunOptions options, vm::Executor& executor);

  // Creates results.json with every run missing, and suite.toml, in result_dir.
  void start(std::uint64_t seed);
  // Loads result_dir/results.json; checks that the suite is the one it was made with.
  void resume();

  // Boots once per boot of the schedule that has runs to do, in order. Returns
  // false when stopped by stop_requested.
  bool run_pending();
  // True when no benchmark has been recorded for this place (guest or host) or
  // one of them did not finish.
  bool benchmarks_pending() const;
  // Runs the suite's benchmarks: in one boot of the patched kernel for a guest
  // (those with in_guest), or on the host in host mode (those with on_host). The
  // entries of an earlier attempt in the same place are replaced. Does nothing
  // once a stop was requested.
  void run_benchmarks();

  const nlohmann::ordered_json& results() const { return results_; }
  nlohmann::ordered_json& mutable_results() { return results_; }
  void save() const;
  const Suite& suite() const { return suite_; }
  const Schedule& schedule() const { return schedule_; }

 private:
  struct BootOutcome {
    vm::ExecResult exec;
    std::filesystem::path boot_dir;
  };

  // Runs `plan` in one boot of `kernel` and returns how the boot ended.
  BootOutcome boot(BootPlan plan, const KernelImage& kernel, unsigned run_time_budget_s,
                   const std::function<void(const std::string&)>& on_line);
  std::filesystem::path next_boot_dir();
  // Reads runs/NNNN/capture.json into the run's entry; false when there is none.
  bool merge_capture(std::size_t index, const std::filesystem::path& boot_dir);
  void summarize_profiles(const std::vector<std::size_t>& indices, const std::filesystem::path& boot_dir);
  void record_boot(const BootOutcome& outcome, KernelKind kernel, const std::vector<std::size_t>& runs);
  void record_guest_context(const BootOutcome& outcome, const KernelImage& kernel);
  const KernelImage& kernel_image(KernelKind kind) const;
  std::string measured_on() const;
  void log(const std::string& line) const;

  Suite suite_;
  SuiteRunOptions options_;
  vm::Executor& executor_;
  Schedule schedule_;
  nlohmann::ordered_json results_;
  std::optional<vm::Accelerator> accelerator_used_;
  Progress progress_;
};

}  // namespace nozero::run

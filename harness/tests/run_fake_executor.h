// A vm::Executor that plays the guest without booting anything: it reads the boot
// plan the SuiteRunner wrote, writes a capture.json per run with made-up but
// consistent measurements, and prints the runner's progress lines. Scripted
// faults (a failing run, a crash, a timeout, Ctrl-C) exercise the bookkeeping.
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "nozero/atomic_file.h"
#include "run/boot_plan.h"
#include "run/guest_runner.h"
#include "vm/executor.h"

namespace nozero::run::testing {

class FakeExecutor : public vm::Executor {
 public:
  // Run indices whose capture has status "failed" (the workload exited with 1).
  std::set<std::size_t> failing_runs;
  // The guest dies (runner exit status 1, no capture) when it reaches this run.
  std::optional<std::size_t> crash_at;
  // The executor's time limit expires when the guest reaches this run.
  std::optional<std::size_t> timeout_at;
  // The user presses Ctrl-C while this run executes: the flag is set, QEMU dies.
  std::optional<std::size_t> interrupt_at;
  std::atomic<bool>* stop_flag = nullptr;
  vm::Accelerator accelerator = vm::Accelerator::tcg;

  // Every boot's config and plan, in order.
  std::vector<vm::VmConfig> configs;
  std::vector<BootPlan> plans;
  // Every run index in the order the fake executed it.
  std::vector<std::size_t> executed;

  vm::ExecResult run(const vm::VmConfig& config, const vm::GuestCommand& command,
                     const vm::OutputSink& output) override {
    configs.push_back(config);
    vm::ExecResult result;
    result.accelerator = accelerator;
    result.accelerator_reason = "fake executor";
    result.kernel_release = "6.12.0-fake";
    result.boot_s = 0.5;

    std::filesystem::path plan_path = command.argv.at(3);
    std::ifstream file(plan_path);
    BootPlan plan = boot_plan_from_json(nlohmann::json::parse(file));
    plans.push_back(plan);
    write_file_atomically(plan.boot_dir / "guest.json",
                          nlohmann::json{{"kernel_release", "6.12.0-fake"},
                                         {"cmdline", "console=ttyS0 fake"},
                                         {"thp", "madvise"},
                                         {"aslr", 2},
                                         {"pmu", {{"available", false}, {"reason", "fake: no PMU"}}}}
                              .dump());
    output("environment written\n");

    for (const RunSpec& run : plan.runs) {
      if (crash_at && *crash_at == run.index) {
        result.exit_status = 1;
        result.error = "the guest runner exited with status 1";
        return result;
      }
      if (timeout_at && *timeout_at == run.index) {
        result.timed_out = true;
        result.error = "timed out";
        return result;
      }
      if (interrupt_at && *interrupt_at == run.index) {
        if (stop_flag) *stop_flag = true;
        result.exit_status = 130;
        result.error = "QEMU was killed by SIGINT";
        return result;
      }
      executed.push_back(run.index);
      std::filesystem::create_directories(run.output_dir);
      write_file_atomically(run.output_dir / "capture.json", make_capture(run).dump(2));
      output(std::string{kProgressPrefix} + std::to_string(run.index) + " ok 1.0\n");
    }
    result.exit_status = 0;
    result.command_s = 1.0 * static_cast<double>(plan.runs.size());
    return result;
  }

  nlohmann::json make_capture(const RunSpec& run) const {
    const bool nozero = run.arm == "nozero";
    const bool failed = failing_runs.count(run.index) != 0;
    // Larger is better: nozero does a little better, and each repetition differs.
    double records = (nozero ? 1100.0 : 1000.0) + static_cast<double>(run.repetition);
    nlohmann::json capture = {
        {"schema", kCaptureSchema},
        {"schema_version", 1},
        {"index", run.index},
        {"workload", run.workload},
        {"arm", run.arm},
        {"warmup", run.warmup},
        {"repetition", run.repetition},
        {"status", failed ? "failed" : "ok"},
        {"exit_status", failed ? 1 : 0},
        {"wall_s", 2.0},
        {"thp", run.thp},
        {"rusage", {{"utime_s", 0.5}, {"stime_s", 1.5}, {"minflt", 10000}, {"majflt", 0}}},
        {"vmstat_delta",
         {{"pgfault", 10200},
          {"nozero_reuse", nozero ? 9800 : 0},
          {"nozero_clear", nozero ? 200 : 0},
          {"nozero_thp_reuse", 0}}},
        // The shape the guest runner writes: kprobe entries count calls only, the
        // function profile also times them.
        {"clear_page",
         {{"source", "kprobe hit counts of clear_page_*, ftrace function profile of kernel_init_pages"},
          {"functions",
           {{"clear_page_erms", {{"hits", nozero ? 400 : 10000}, {"source", "kprobe"}}},
            {"kernel_init_pages",
             {{"hits", nozero ? 4 : 100},
              {"total_us", nozero ? 40.0 : 1000.0},
              {"avg_us", 10.0},
              {"source", "ftrace function profile"}}}}}}},
        {"perf", {{"available", false}, {"reason", "fake"}}},
        {"hw_counters", {{"available", false}, {"reason", "fake: no PMU"}}},
        {"workload_document",
         {{"schema", "nozero-bench/workload"},
          {"metrics", {{"records_per_s", {{"value", records}, {"unit", "records/s"}, {"better", "higher"}}}}}}}};
    if (run.leak_check) {
      capture["leak_check"] = {{"tool", "smiffy"}, {"uid", 1001}, {"pages_scanned", 200}, {"nonzero_pages", 0}, {"nozero_faults", 100}, {"own_reused_pages", 40}};
    }
    if (failed) capture["error"] = "exit status 1: fake failure";
    return capture;
  }
};

}  // namespace nozero::run::testing

// The runner inside the guest (and on the host in `run --host` mode): executes the
// runs of one boot plan and captures each of them.
//
// Per run, in this order: set THP, run the prepare commands, start the leak checker,
// snapshot /proc/vmstat, start the ftrace function profiler, run the workload as
// the workload user under `perf record` through the run-exec wrapper, stop the
// profiler, snapshot /proc/vmstat again, stop the leak checker, and write
// runs/NNNN/capture.json atomically.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "run/boot_plan.h"

namespace nozero::run {

inline constexpr const char* kGuestRunCommand = "guest-run";
inline constexpr const char* kRunExecCommand = "run-exec";

// Runs every run and benchmark of the plan. Writes boot_dir/guest.json first (the
// environment: kernel, THP, ASLR, MAP_NOZERO support, perf, ftrace, counters) and
// boot_dir/kallsyms. Progress lines go to `log`. Returns 0 when every capture file
// was written, even for runs that failed; 1 when the runner itself failed.
int run_boot_plan(const BootPlan& plan, const std::function<void(const std::string&)>& log);

// Prefix of the progress lines run_boot_plan prints after each run, which the host
// reads from the guest's output to update its progress display:
// "nozero-bench-run: done INDEX STATUS WALL_S".
inline constexpr const char* kProgressPrefix = "nozero-bench-run: done ";

// Adds the hidden subcommands guest-run and run-exec.
void add_guest_commands(CLI::App& app);

// The capture document's status when the runner could not run a run at all.
nlohmann::ordered_json failed_capture(const RunSpec& run, const std::string& error);

}  // namespace nozero::run

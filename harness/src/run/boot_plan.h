// What the host hands to the in-guest runner for one boot, and what the runner
// leaves behind. The host writes boots/NNN/plan.json into the result directory,
// which the guest sees read-write at the same path; `nozero-bench guest-run` reads
// it, runs every run in order and writes runs/NNNN/capture.json for each. The same
// runner measures on the host in `run --host` mode.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nozero::run {

inline constexpr const char* kBootPlanSchema = "nozero-bench/boot-plan";
inline constexpr const char* kCaptureSchema = "nozero-bench/run-capture";
inline constexpr int kBootPlanVersion = 1;

struct RunSpec {
  std::size_t index = 0;
  std::string workload;
  std::string arm;
  bool warmup = false;
  unsigned repetition = 0;
  // The workload command, with the arm's MAP_NOZERO request already applied.
  std::vector<std::string> argv;
  // Append --json=FILE: the program writes a nozero-bench/workload document.
  bool json_output = false;
  // Commands run untimed before the measured command, as the runner's user: root
  // in the guest, because the cache is root-owned. The scratch directory is then
  // handed to the workload user.
  std::vector<std::vector<std::string>> prepare;
  // A directory the runner creates for the run, owned by the workload user, and
  // removes afterwards. The command runs in it.
  std::filesystem::path scratch_dir;
  // "never", "madvise" or "always", written to sysfs before the run.
  std::string thp;
  unsigned timeout_s = 300;
  // Start smiffy as the leak-check user for the duration of the run.
  bool leak_check = false;
  // Directory of perf.data, the logs and capture.json: runs/NNNN in the result directory.
  std::filesystem::path output_dir;
};

struct BenchmarkSpec {
  std::string name;
  std::vector<std::string> argv;
  unsigned timeout_s = 120;
  // The Google Benchmark JSON file the binary writes (--benchmark_out).
  std::filesystem::path output;
};

struct BootPlan {
  std::size_t boot = 0;
  std::filesystem::path result_dir;
  // This boot's directory: guest.json, kallsyms, the runner's log.
  std::filesystem::path boot_dir;
  std::filesystem::path bin_dir;
  // The nozero-bench binary, for the run-exec wrapper under perf.
  std::filesystem::path self;
  unsigned workload_uid = 1000;
  unsigned leak_check_uid = 1001;
  std::vector<std::string> leak_check_argv;
  // Kernel functions whose calls kprobes count, and those the ftrace function
  // profiler counts and times, when the kernel has them.
  std::vector<std::string> clear_page_functions;
  std::vector<std::string> profiled_functions;
  // False in host mode: the host's THP setting is recorded but never changed, and
  // a missing tracefs is reported, not mounted.
  bool set_thp = true;
  bool mount_tracefs = true;
  // perf record, kprobes and the function profiler (Suite::profile).
  bool profile = true;
  std::vector<RunSpec> runs;
  std::vector<BenchmarkSpec> benchmarks;
};

// The three x86 clear_page variants (the kernel patches in one at boot by CPU
// features). Each call clears one 4 KiB page, whichever path called it. They are
// assembly without an ftrace call site, so kprobes count them.
inline const std::vector<std::string> kClearPageFunctions = {"clear_page_erms", "clear_page_rep",
                                                             "clear_page_orig"};
// The C functions around them that the function profiler can count and time.
// kernel_init_pages clears __GFP_ZERO allocations, which is the order-0 anonymous
// fault path of an unpatched kernel and of mappings without MAP_NOZERO.
// folio_zero_user clears a large folio, and clear_subpage each of its 4 KiB pages.
// clear_huge_page is the name of folio_zero_user before Linux 6.10. The MAP_NOZERO series clears
// the pages of VM_NOZERO mappings it cannot reuse through clear_user_highpage, an
// inline function, so only the clear_page_* counts cover every path.
inline const std::vector<std::string> kProfiledFunctions = {"kernel_init_pages", "clear_subpage",
                                                            "folio_zero_user", "clear_huge_page"};

nlohmann::ordered_json to_json(const BootPlan& plan);
// Throws std::runtime_error naming the problem when the document is not a boot plan.
BootPlan boot_plan_from_json(const nlohmann::json& document);

}  // namespace nozero::run

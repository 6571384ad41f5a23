// What a run captures: /proc/vmstat deltas, the ftrace function profile, perf
// report parsing, the measured child process, hardware counters, and the in-guest
// runner itself run on the host.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "run/boot_plan.h"
#include "run/child_process.h"
#include "run/guest_runner.h"
#include "run/hw_counters.h"
#include "run/kernel_probes.h"
#include "run/perf_profile.h"
#include "run/results.h"

namespace nozero::run {
namespace {

std::filesystem::path test_dir() {
  std::filesystem::path directory =
      std::filesystem::temp_directory_path() /
      ("capture_test-" + std::string{::testing::UnitTest::GetInstance()->current_test_info()->name()});
  std::filesystem::remove_all(directory);
  std::filesystem::create_directories(directory);
  return directory;
}

std::string read(const std::filesystem::path& path) {
  std::ifstream file(path);
  return std::string{std::istreambuf_iterator<char>(file), {}};
}

TEST(CaptureVmstat, DeltaAndSelection) {
  Vmstat before = parse_vmstat("pgfault 100\nnozero_reuse 5\nnr_free_pages 7\nnozero_new_counter 1\n");
  Vmstat after = parse_vmstat("pgfault 250\nnozero_reuse 55\nnr_free_pages 3\nnozero_new_counter 4\nonly_after 9\n");
  Vmstat delta = vmstat_delta(before, after);
  EXPECT_EQ(delta["pgfault"], 150);
  EXPECT_EQ(delta["nozero_reuse"], 50);
  EXPECT_EQ(delta["nr_free_pages"], -4);
  EXPECT_FALSE(delta.count("only_after"));
  nlohmann::ordered_json selected = selected_vmstat_json(delta);
  EXPECT_EQ(selected["pgfault"], 150);
  EXPECT_EQ(selected["nozero_reuse"], 50);
  EXPECT_EQ(selected["nozero_new_counter"], 3);
  EXPECT_FALSE(selected.contains("nr_free_pages"));
}

TEST(CaptureVmstat, ReadsThisKernel) {
  Vmstat counters = read_vmstat();
  EXPECT_GT(counters["pgfault"], 0);
}

TEST(CaptureFtrace, ParsesFunctionProfile) {
  // The layout of kernel/trace/ftrace.c's function_stat_show in 6.12.
  const char* text =
      "  Function                               Hit    Time            Avg             s^2\n"
      "  --------                               ---    ----            ---             ---\n"
      "  clear_page_erms                      12345    9876.543 us     0.800 us        0.120 us    \n"
      "  folio_zero_user                         10    5000.000 us     500.000 us      3.000 us    \n";
  std::map<std::string, FunctionStat> stats = parse_function_profile(text);
  ASSERT_EQ(stats.size(), 2u);
  EXPECT_EQ(stats["clear_page_erms"].hits, 12345);
  EXPECT_DOUBLE_EQ(stats["clear_page_erms"].total_us, 9876.543);
  EXPECT_DOUBLE_EQ(stats["folio_zero_user"].avg_us(), 500.0);
}

TEST(CaptureFtrace, ParsesHitsOnlyProfile) {
  // Without the function-graph tracer the profiler prints hits only.
  std::map<std::string, FunctionStat> stats =
      parse_function_profile("  Function   Hit\n  --------   ---\n  clear_page_rep    77\n");
  EXPECT_EQ(stats["clear_page_rep"].hits, 77);
  EXPECT_DOUBLE_EQ(stats["clear_page_rep"].total_us, 0.0);
}

TEST(CaptureFtrace, RunTakesDifferenceOfTwoReads) {
  std::map<std::string, FunctionStat> before = {{"kernel_init_pages", {100, 1000.0}}};
  std::map<std::string, FunctionStat> after = {{"kernel_init_pages", {130, 1600.0}}, {"folio_zero_user", {2, 50.0}}};
  std::map<std::string, FunctionStat> run = profile_difference(before, after);
  ASSERT_EQ(run.size(), 2u);
  EXPECT_EQ(run["kernel_init_pages"].hits, 30);
  EXPECT_DOUBLE_EQ(run["kernel_init_pages"].total_us, 600.0);
  EXPECT_DOUBLE_EQ(run["kernel_init_pages"].avg_us(), 20.0);
  // First called during the run: all of it is the run's.
  EXPECT_EQ(run["folio_zero_user"].hits, 2);
}

TEST(CaptureKprobes, ParsesKprobeProfile) {
  // The layout of kernel/trace/trace_kprobe.c's probes_profile_seq_show.
  std::map<std::string, std::int64_t> hits = parse_kprobe_profile(
      "  nzb_clear_page_erms                                     123456               0\n"
      "  nzb_clear_page_rep                                           0               0\n");
  EXPECT_EQ(hits["nzb_clear_page_erms"], 123456);
  EXPECT_EQ(hits["nzb_clear_page_rep"], 0);
}

TEST(CaptureKprobes, MissingKprobeEventsSaysWhy) {
  std::filesystem::path directory = test_dir();
  KprobeHitCounter counter(directory, kClearPageFunctions);
  EXPECT_FALSE(counter.available());
  EXPECT_NE(counter.unavailable_reason().find("CONFIG_KPROBE_EVENTS"), std::string::npos);
  EXPECT_TRUE(counter.read().empty());
}

TEST(CaptureFtrace, UnavailableProfilerSaysWhy) {
  // No kernel has this function, so the profiler is unavailable either way: for
  // want of tracefs or of the function.
  FunctionProfiler profiler({"nozero_bench_no_such_function"}, false);
  EXPECT_FALSE(profiler.available());
  EXPECT_FALSE(profiler.unavailable_reason().empty());
  EXPECT_TRUE(profiler.read().empty());
  EXPECT_TRUE(profiler.stop().empty());
}

TEST(CapturePerf, ParsesReport) {
  const char* text =
      " 24.10% | 1582       |[k] clear_page_erms                          |[kernel.kallsyms]   \n"
      " 13.56% | 890        |[k] exc_page_fault                           |[kernel.kallsyms]   \n"
      " 5.96%  | 391        |[.] main                                     |t                   \n"
      "# comment\n";
  PerfSummary summary = parse_perf_report(text);
  EXPECT_EQ(summary.samples, 2863);
  ASSERT_EQ(summary.symbols.size(), 3u);
  EXPECT_EQ(summary.symbols[0].symbol, "clear_page_erms");
  EXPECT_EQ(summary.symbols[0].mode, 'k');
  EXPECT_EQ(summary.symbols[2].dso, "t");
  EXPECT_EQ(summary.symbols[2].mode, '.');
  EXPECT_NEAR(clear_page_share(summary), 1582.0 / 2863.0, 1e-12);
  nlohmann::ordered_json json = perf_summary_json(summary, "runs/0001/perf.data", 1);
  // The top symbol plus every clear_page symbol, however small.
  EXPECT_EQ(json["top_symbols"].size(), 1u);
  EXPECT_EQ(json["perf_data"], "runs/0001/perf.data");
}

TEST(CapturePerf, ClearPageSymbols) {
  for (const char* name : {"clear_page_erms", "clear_page_rep", "clear_page_orig", "folio_zero_user",
                           "clear_huge_page", "clear_user_erms"}) {
    EXPECT_TRUE(is_clear_page_symbol(name)) << name;
  }
  EXPECT_FALSE(is_clear_page_symbol("copy_page"));
}

TEST(CaptureChild, ExitStatusOutputAndUsage) {
  std::filesystem::path directory = test_dir();
  ChildOptions options;
  options.argv = {"sh", "-c", "echo out; echo err >&2; head -c 20000000 /dev/zero | wc -c; exit 3"};
  options.stdout_path = directory / "out";
  options.stderr_path = directory / "err";
  ChildResult result = run_child(options);
  EXPECT_EQ(result.exit_status, 3);
  EXPECT_FALSE(result.timed_out);
  EXPECT_TRUE(result.error.empty());
  EXPECT_EQ(read(directory / "out"), "out\n20000000\n");
  EXPECT_EQ(read(directory / "err"), "err\n");
  EXPECT_GT(result.usage.minflt, 0);
  EXPECT_GT(result.wall_s, 0);
}

TEST(CaptureChild, TimeoutKillsTheGroup) {
  std::filesystem::path directory = test_dir();
  ChildOptions options;
  // The grandchild keeps stdout open, so the whole process group must die.
  options.argv = {"sh", "-c", "sleep 30 & sleep 30"};
  options.timeout_s = 1;
  options.stdout_path = directory / "out";
  ChildResult result = run_child(options);
  EXPECT_TRUE(result.timed_out);
  EXPECT_EQ(result.exit_status, 128 + SIGKILL);
  EXPECT_LT(result.wall_s, 10);
}

TEST(CaptureChild, ExecFailureNamesTheProgram) {
  ChildOptions options;
  options.argv = {"/nonexistent/program"};
  ChildResult result = run_child(options);
  EXPECT_EQ(result.exit_status, -1);
  EXPECT_EQ(result.error, "exec /nonexistent/program failed: No such file or directory");
}

TEST(CaptureChild, ChdirFailureNamesTheDirectory) {
  ChildOptions options;
  options.argv = {"true"};
  options.cwd = "/nonexistent-dir";
  EXPECT_EQ(run_child(options).error, "chdir /nonexistent-dir failed: No such file or directory");
}

TEST(CaptureChild, SwitchesUser) {
  std::filesystem::path directory = test_dir();
  ChildOptions options;
  options.argv = {"id", "-u"};
  options.uid = 1000;
  options.gid = 1000;
  options.stdout_path = directory / "out";
  ChildResult result = run_child(options);
  if (geteuid() == 0) {
    EXPECT_EQ(result.exit_status, 0);
    EXPECT_EQ(read(directory / "out"), "1000\n");
  } else {
    // Only root may switch users; the failure names the call.
    EXPECT_EQ(result.error, "setgroups failed: Operation not permitted");
  }
}

TEST(CaptureChild, BeforeExecSeesTheChild) {
  pid_t seen = -1;
  ChildOptions options;
  options.argv = {"true"};
  options.before_exec = [&seen](pid_t pid) { seen = pid; };
  EXPECT_EQ(run_child(options).exit_status, 0);
  EXPECT_GT(seen, 0);
}

TEST(CaptureChild, BackgroundChildStops) {
  ChildOptions options;
  options.argv = {"sleep", "30"};
  BackgroundChild child(options);
  EXPECT_TRUE(child.running());
  EXPECT_EQ(child.stop(SIGINT, 5), 128 + SIGINT);
  EXPECT_FALSE(child.running());
}

TEST(CaptureCounters, UnavailableGivesReason) {
  ChildCounters counters(false, "no hardware PMU: cycles not supported", nullptr);
  counters.attach(1);
  nlohmann::ordered_json block = counters.read();
  EXPECT_EQ(block["available"], false);
  EXPECT_EQ(block["reason"], "no hardware PMU: cycles not supported");
}

TEST(CaptureCounters, AttachesInheritedCountersToThePid) {
  // A fake kernel: every event opens as a pipe whose read returns a fixed count.
  std::vector<perf_event_attr> opened;
  std::vector<pid_t> pids;
  ChildCounters counters(true, "", [&](const perf_event_attr& attr, pid_t pid) {
    opened.push_back(attr);
    pids.push_back(pid);
    int fds[2];
    if (pipe(fds) != 0) return -errno;
    std::uint64_t values[3] = {1000, 10, 5};  // multiplexed: ran half the time
    if (write(fds[1], values, sizeof values) != static_cast<ssize_t>(sizeof values)) return -EIO;
    close(fds[1]);
    return fds[0];
  });
  counters.attach(4242);
  // cycles, instructions and llc_misses, each for user and kernel.
  ASSERT_EQ(opened.size(), 6u);
  for (std::size_t i = 0; i < opened.size(); ++i) {
    EXPECT_EQ(pids[i], 4242);
    EXPECT_EQ(opened[i].inherit, 1u);
    EXPECT_EQ(opened[i].enable_on_exec, 1u);
    EXPECT_EQ(opened[i].disabled, 1u);
  }
  EXPECT_EQ(opened[0].exclude_kernel, 1u);
  EXPECT_EQ(opened[1].exclude_user, 1u);
  nlohmann::ordered_json block = counters.read();
  EXPECT_EQ(block["available"], true);
  EXPECT_DOUBLE_EQ(block["counts"]["cycles_user"].get<double>(), 2000.0);
  EXPECT_DOUBLE_EQ(block["counts"]["llc_misses_kernel"].get<double>(), 2000.0);
  EXPECT_EQ(block["multiplexed"], true);
}

TEST(CaptureCounters, ProbeOfThisMachine) {
  ChildCounters counters = ChildCounters::probe();
  // Either hardware counting works, or the library gave the reason.
  EXPECT_TRUE(counters.available() || !counters.reason().empty());
}

// The in-guest runner, run on this host with a tiny workload: the capture has every
// section, and each one this host cannot provide gives the reason.
TEST(CaptureRunner, HostRunWritesCompleteCapture) {
  std::filesystem::path directory = test_dir();
  BootPlan plan;
  plan.result_dir = directory;
  plan.boot_dir = directory / "boots/000";
  plan.self = NOZERO_BENCH_BINARY;
  plan.bin_dir = std::filesystem::path{NOZERO_BENCH_BINARY}.parent_path();
  plan.workload_uid = 1000;
  plan.clear_page_functions = kClearPageFunctions;
  plan.profiled_functions = kProfiledFunctions;
  plan.set_thp = false;
  plan.mount_tracefs = false;
  RunSpec run;
  run.index = 0;
  run.workload = "touch";
  run.arm = "baseline";
  run.argv = {"sh", "-c", "head -c 50000000 /dev/zero | wc -c; echo done >&2"};
  run.scratch_dir = directory / "scratch";
  run.output_dir = directory / "runs/0000";
  run.timeout_s = 60;
  run.prepare = {{"sh", "-c", "echo prepared > prepared.txt"}};
  plan.runs.push_back(run);
  RunSpec failing = run;
  failing.index = 1;
  failing.argv = {"sh", "-c", "exit 4"};
  failing.output_dir = directory / "runs/0001";
  plan.runs.push_back(failing);

  std::vector<std::string> lines;
  ASSERT_EQ(run_boot_plan(plan, [&lines](const std::string& line) { lines.push_back(line); }), 0);

  nlohmann::json environment = nlohmann::json::parse(read(plan.boot_dir / "guest.json"));
  EXPECT_FALSE(environment["kernel_release"].get<std::string>().empty());
  EXPECT_TRUE(environment["perf"].contains("available"));
  EXPECT_TRUE(environment["ftrace"]["available"].get<bool>() || environment["ftrace"].contains("reason"));
  EXPECT_TRUE(environment["nozero"].contains("kernel_support"));

  nlohmann::json capture = nlohmann::json::parse(read(run.output_dir / "capture.json"));
  EXPECT_EQ(capture["status"], "ok") << capture.dump(2);
  EXPECT_EQ(capture["exit_status"], 0);
  EXPECT_GT(capture["wall_s"].get<double>(), 0);
  EXPECT_GT(capture["rusage"]["minflt"].get<double>(), 0);
  EXPECT_GT(capture["vmstat_delta"]["pgfault"].get<double>(), 0);
  EXPECT_TRUE(capture["clear_page"].contains("functions") || capture["clear_page"].contains("reason"));
  EXPECT_TRUE(capture["hw_counters"].contains("available"));
  EXPECT_EQ(read(run.output_dir / "stdout.log"), "50000000\n");
  EXPECT_EQ(read(run.output_dir / "stderr.log"), "done\n");
  if (capture["perf"]["available"].get<bool>()) {
    EXPECT_TRUE(std::filesystem::exists(run.output_dir / "perf.data"));
    PerfSummary summary = report_perf_data(environment["perf"]["path"].get<std::string>(),
                                           run.output_dir / "perf.data", "");
    EXPECT_GT(summary.samples, 0);
  } else {
    EXPECT_FALSE(capture["perf"]["reason"].get<std::string>().empty());
  }
  EXPECT_FALSE(std::filesystem::exists(run.scratch_dir)) << "the scratch directory is removed after the run";

  nlohmann::json failed = nlohmann::json::parse(read(failing.output_dir / "capture.json"));
  EXPECT_EQ(failed["status"], "failed");
  EXPECT_EQ(failed["exit_status"], 4);
  EXPECT_NE(failed["error"].get<std::string>().find("exit status 4"), std::string::npos);

  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[1].rfind(std::string{kProgressPrefix} + "0 ok ", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind(std::string{kProgressPrefix} + "1 failed ", 0), 0u) << lines[2];

  nlohmann::ordered_json entry = run_entry_from_capture(capture, "host", "runs/0000");
  EXPECT_EQ(entry["measured_on"], "host");
  EXPECT_DOUBLE_EQ(entry["metrics"]["wall_s"]["value"].get<double>(), capture["wall_s"].get<double>());
}

TEST(CaptureRunner, PrepareFailureFailsTheRun) {
  std::filesystem::path directory = test_dir();
  BootPlan plan;
  plan.result_dir = directory;
  plan.boot_dir = directory / "boots/000";
  plan.self = NOZERO_BENCH_BINARY;
  plan.set_thp = false;
  plan.mount_tracefs = false;
  RunSpec run;
  run.workload = "w";
  run.arm = "baseline";
  run.argv = {"true"};
  run.scratch_dir = directory / "scratch";
  run.output_dir = directory / "runs/0000";
  run.prepare = {{"sh", "-c", "echo no space left >&2; exit 1"}};
  plan.runs.push_back(run);
  ASSERT_EQ(run_boot_plan(plan, [](const std::string&) {}), 0);
  nlohmann::json capture = nlohmann::json::parse(read(run.output_dir / "capture.json"));
  EXPECT_EQ(capture["status"], "failed");
  EXPECT_EQ(capture["error"], "prepare command 'sh' failed (exit status 1): no space left");
}

TEST(CaptureBootPlan, RoundTripsThroughJson) {
  BootPlan plan;
  plan.boot = 3;
  plan.result_dir = "/r";
  plan.boot_dir = "/r/boots/003";
  plan.leak_check_argv = {"/bin/smiffy", "--seconds", "100"};
  RunSpec run;
  run.index = 9;
  run.workload = "w";
  run.arm = "nozero";
  run.argv = {"a", "b"};
  run.prepare = {{"cp", "x", "y"}};
  run.thp = "always";
  plan.runs.push_back(run);
  plan.benchmarks.push_back({"clear", {"nzbench-clear"}, 30, "/r/benchmarks/guest/clear.json"});
  BootPlan back = boot_plan_from_json(nlohmann::json::parse(to_json(plan).dump()));
  EXPECT_EQ(back.boot, 3u);
  EXPECT_EQ(back.leak_check_argv, plan.leak_check_argv);
  ASSERT_EQ(back.runs.size(), 1u);
  EXPECT_EQ(back.runs[0].index, 9u);
  EXPECT_EQ(back.runs[0].prepare, run.prepare);
  EXPECT_EQ(back.runs[0].thp, "always");
  ASSERT_EQ(back.benchmarks.size(), 1u);
  EXPECT_EQ(back.benchmarks[0].output, "/r/benchmarks/guest/clear.json");
  EXPECT_THROW(boot_plan_from_json(nlohmann::json{{"schema", "other"}}), std::runtime_error);
}

}  // namespace
}  // namespace nozero::run

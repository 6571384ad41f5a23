// The host side of `nozero-bench run` against a fake guest: recording every run in
// results.json, failures, timeouts, Ctrl-C, and resuming.
#include <gtest/gtest.h>

#include <fstream>

#include "core/errors.h"
#include "run/progress.h"
#include "run/projection.h"
#include "run/results.h"
#include "run/suite_runner.h"
#include "run/summary.h"
#include "run_fake_executor.h"
#include "stats/gate.h"
#include "stats/results.h"

namespace nozero::run {
namespace {

const char* const kSuite = R"(
[suite]
name = "fake"
repetitions = 3
warmups = 1
[[workload]]
name = "ebizzy-m"
program = "ebizzy-nz"
args = ["-m"]
[[workload]]
name = "build"
program = "make"
repetitions = 2
)";

class SuiteRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = std::filesystem::temp_directory_path() /
                 ("run_runner_test-" + std::string{::testing::UnitTest::GetInstance()->current_test_info()->name()});
    std::filesystem::remove_all(directory_);
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  SuiteRunOptions options(const std::string& suite_text = kSuite) {
    suite_ = parse_suite(suite_text, "fake.toml");
    SuiteRunOptions result;
    result.result_dir = directory_;
    result.toolbox.bin_dir = "/opt/nozero/bin";
    result.toolbox.self = "/opt/nozero/bin/nozero-bench";
    result.toolbox.linux_tools_tree = "/cache/linux-tools";
    result.patched = KernelImage{"/cache/patched/bzImage", "6.12.0-fake", "sha256:abc", true, "key1"};
    result.unpatched = KernelImage{"/cache/unpatched/bzImage", "6.12.0-fake", "", false, "key2"};
    result.stop_requested = &stop_;
    return result;
  }

  nlohmann::json saved_results() const {
    std::ifstream file(directory_ / "results.json");
    return nlohmann::json::parse(file);
  }

  std::filesystem::path directory_;
  Suite suite_;
  std::atomic<bool> stop_{false};
};

TEST_F(SuiteRunnerTest, RecordsEveryRunInOrder) {
  testing::FakeExecutor executor;
  SuiteRunner runner(parse_suite(kSuite, "fake.toml"), options(), executor);
  runner.start(1234);
  ASSERT_TRUE(runner.run_pending());

  nlohmann::json results = saved_results();
  EXPECT_EQ(results["schema"], "nozero-bench/results");
  EXPECT_EQ(results["schema_version"], 1);
  EXPECT_EQ(results["context"]["seed"], 1234);
  EXPECT_EQ(results["context"]["measured_on"], "TCG guest");
  EXPECT_EQ(results["context"]["guest"]["kernel_release"], "6.12.0-fake");
  EXPECT_EQ(results["context"]["guest"]["series_hash"], "sha256:abc");
  EXPECT_EQ(results["context"]["aslr"], 2);
  EXPECT_EQ(results["context"]["pmu"]["available"], false);
  EXPECT_EQ(results["context"]["suite"]["name"], "fake");
  EXPECT_EQ(results["context"]["headline_metrics"]["ebizzy-m"], "records_per_s");

  const nlohmann::json& order = results["context"]["order"];
  const nlohmann::json& runs = results["runs"];
  ASSERT_EQ(runs.size(), order.size());
  // 3 + 3 + 2 + 2 measured runs and one warmup per workload.
  EXPECT_EQ(runs.size(), 12u);
  EXPECT_EQ(executor.executed.size(), 12u);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    EXPECT_EQ(executor.executed[i], i);
    EXPECT_EQ(runs[i]["status"], "ok") << i;
    EXPECT_EQ(runs[i]["order_index"], i);
    EXPECT_EQ(runs[i]["workload"], order[i]["workload"]);
    EXPECT_EQ(runs[i]["arm"], order[i]["arm"]);
    EXPECT_EQ(runs[i]["warmup"], order[i]["warmup"]);
    EXPECT_EQ(runs[i]["measured_on"], "TCG guest");
    EXPECT_TRUE(runs[i]["metrics"].contains("wall_s"));
  }
  EXPECT_EQ(results["boots"].size(), 1u);
  EXPECT_EQ(results["boots"][0]["accelerator"], "tcg");
  EXPECT_TRUE(std::filesystem::exists(directory_ / "suite.toml"));
  EXPECT_TRUE(std::filesystem::exists(directory_ / "boots/000/plan.json"));
}

TEST_F(SuiteRunnerTest, BootConfigFollowsSuite) {
  testing::FakeExecutor executor;
  SuiteRunner runner(parse_suite(kSuite + std::string{"[vm]\n"}, "fake.toml"), options(), executor);
  runner.start(1);
  ASSERT_TRUE(runner.run_pending());
  ASSERT_EQ(executor.configs.size(), 1u);
  const vm::VmConfig& config = executor.configs[0];
  EXPECT_EQ(config.kernel_image, "/cache/patched/bzImage");
  EXPECT_EQ(config.share_dir, directory_);
  EXPECT_EQ(config.cpus, 2u);
  EXPECT_EQ(config.console_log, directory_ / "boots/000/console.log");
  // 12 runs of 300 s, plus a minute each, plus the boot allowance.
  EXPECT_EQ(config.timeout.count(), 12 * 360 + 180);
}

TEST_F(SuiteRunnerTest, RunSpecsApplyTheArm) {
  testing::FakeExecutor executor;
  SuiteRunner runner(parse_suite(kSuite, "fake.toml"), options(), executor);
  runner.start(1);
  ASSERT_TRUE(runner.run_pending());
  for (const RunSpec& spec : executor.plans[0].runs) {
    if (spec.workload == "ebizzy-m") {
      EXPECT_EQ(spec.argv.front(), "/opt/nozero/bin/ebizzy-nz");
      EXPECT_EQ(spec.argv[1], "-m");
      EXPECT_EQ(spec.argv.back() == "-N", spec.arm == "nozero");
      EXPECT_TRUE(spec.json_output);
      EXPECT_TRUE(spec.prepare.empty());
    } else {
      EXPECT_EQ(spec.argv.front() == "/opt/nozero/bin/nozero-exec", spec.arm == "nozero");
      EXPECT_NE(std::find(spec.argv.begin(), spec.argv.end(), "make"), spec.argv.end());
      EXPECT_NE(std::find(spec.argv.begin(), spec.argv.end(), "-j2"), spec.argv.end());
      ASSERT_EQ(spec.prepare.size(), 1u);
      EXPECT_EQ(spec.prepare[0][0], "cp");
      EXPECT_EQ(spec.prepare[0][2], "/cache/linux-tools");
      EXPECT_FALSE(spec.json_output);
    }
    EXPECT_TRUE(spec.leak_check);
    EXPECT_EQ(spec.output_dir, directory_ / run_dir_name(spec.index));
  }
  EXPECT_EQ(executor.plans[0].leak_check_argv, std::vector<std::string>{"/opt/nozero/bin/smiffy"});
  EXPECT_EQ(executor.plans[0].leak_check_uid, 1001u);
  EXPECT_EQ(executor.plans[0].workload_uid, 1000u);
  EXPECT_TRUE(executor.plans[0].set_thp);
}

// The first measured (not warmup) run at or after `from` in the order of `seed`.
std::size_t measured_index(std::uint64_t seed, std::size_t from) {
  Schedule schedule = make_schedule(parse_suite(kSuite, "fake.toml"), seed);
  for (std::size_t index = from; index < schedule.runs.size(); ++index) {
    if (!schedule.runs[index].warmup) return index;
  }
  return 0;
}

TEST_F(SuiteRunnerTest, FailedRunIsMarkedAndRerunOnResume) {
  const std::size_t failing = measured_index(5, 3);
  testing::FakeExecutor executor;
  executor.failing_runs = {failing};
  SuiteRunner runner(parse_suite(kSuite, "fake.toml"), options(), executor);
  runner.start(5);
  ASSERT_TRUE(runner.run_pending());
  nlohmann::json results = saved_results();
  EXPECT_EQ(results["runs"][failing]["status"], "failed");
  EXPECT_EQ(results["runs"][failing]["error"], "exit status 1: fake failure");
  EXPECT_EQ(unfinished_runs(results), 1u);

  testing::FakeExecutor second;
  SuiteRunner resumed(load_suite((directory_ / "suite.toml").string()), options(), second);
  resumed.resume();
  ASSERT_TRUE(resumed.run_pending());
  results = saved_results();
  EXPECT_EQ(results["runs"][failing]["status"], "ok");
  EXPECT_EQ(unfinished_runs(results), 0u);
  EXPECT_EQ(results["boots"].size(), 2u);
  // The second boot runs the failed run after its workload's warmup, and nothing else.
  ASSERT_EQ(second.executed.size(), 2u);
  EXPECT_TRUE(results["runs"][second.executed[0]]["warmup"].get<bool>());
  EXPECT_EQ(second.executed[1], failing);
}

TEST_F(SuiteRunnerTest, CrashMarksCurrentRunFailedAndRestMissing) {
  const std::size_t crash = measured_index(5, 6);
  testing::FakeExecutor executor;
  executor.crash_at = crash;
  SuiteRunner runner(parse_suite(kSuite, "fake.toml"), options(), executor);
  runner.start(5);
  ASSERT_TRUE(runner.run_pending());
  nlohmann::json results = saved_results();
  for (std::size_t i = 0; i < crash; ++i) EXPECT_EQ(results["runs"][i]["status"], "ok") << i;
  EXPECT_EQ(results["runs"][crash]["status"], "failed");
  EXPECT_NE(results["runs"][crash]["error"].get<std::string>().find("the guest ended during this run"),
            std::string::npos);
  EXPECT_NE(results["runs"][crash]["error"].get<std::string>().find("console.log"), std::string::npos);
  for (std::size_t i = crash + 1; i < results["runs"].size(); ++i) {
    EXPECT_EQ(results["runs"][i]["status"], "missing") << i;
  }
  EXPECT_FALSE(results["boots"][0]["error"].is_null());

  // A second invocation finishes exactly the runs that are left, plus warmups.
  const std::size_t finished_run = measured_index(5, 0);
  ASSERT_LT(finished_run, crash);
  nlohmann::json run_before = results["runs"][finished_run];
  testing::FakeExecutor second;
  SuiteRunner resumed(load_suite((directory_ / "suite.toml").string()), options(), second);
  resumed.resume();
  ASSERT_TRUE(resumed.run_pending());
  results = saved_results();
  EXPECT_EQ(unfinished_runs(results), 0u);
  EXPECT_EQ(results["runs"][finished_run], run_before);
  for (std::size_t index : second.executed) {
    EXPECT_TRUE(index >= crash || results["runs"][index]["warmup"].get<bool>()) << index;
  }
  EXPECT_EQ(results["runs"][crash]["boot_dir"], "boots/001");
}

TEST_F(SuiteRunnerTest, TimeoutIsRecorded) {
  testing::FakeExecutor executor;
  executor.timeout_at = 2;
  SuiteRunner runner(parse_suite(kSuite, "fake.toml"), options(), executor);
  runner.start(5);
  ASSERT_TRUE(runner.run_pending());
  nlohmann::json results = saved_results();
  EXPECT_EQ(results["runs"][2]["status"], "timeout");
  EXPECT_EQ(results["runs"][3]["status"], "missing");
  EXPECT_TRUE(results["boots"][0]["timed_out"].get<bool>());
}

TEST_F(SuiteRunnerTest, InterruptKeepsMeasuredRuns) {
  testing::FakeExecutor executor;
  executor.interrupt_at = 4;
  executor.stop_flag = &stop_;
  SuiteRunner runner(parse_suite(kSuite, "fake.toml"), options(), executor);
  runner.start(5);
  EXPECT_FALSE(runner.run_pending());
  nlohmann::json results = saved_results();
  for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(results["runs"][i]["status"], "ok") << i;
  EXPECT_EQ(results["runs"][4]["status"], "missing");
  EXPECT_EQ(results["runs"][4]["error"], "interrupted before this run finished");
  for (std::size_t i = 5; i < results["runs"].size(); ++i) {
    EXPECT_EQ(results["runs"][i]["status"], "missing") << i;
    EXPECT_EQ(results["runs"][i]["error"], "not run: interrupted") << i;
  }
}

TEST_F(SuiteRunnerTest, ResumeRejectsAnEditedSuite) {
  testing::FakeExecutor executor;
  executor.crash_at = 1;
  SuiteRunner runner(parse_suite(kSuite, "fake.toml"), options(), executor);
  runner.start(5);
  runner.run_pending();
  SuiteRunner edited(parse_suite(kSuite + std::string{"\n# edited\n"}, "fake.toml"), options(), executor);
  EXPECT_THROW(edited.resume(), CommandError);
}

TEST_F(SuiteRunnerTest, StartRefusesAnExistingResultDirectory) {
  testing::FakeExecutor executor;
  SuiteRunner runner(parse_suite(kSuite, "fake.toml"), options(), executor);
  runner.start(5);
  SuiteRunner again(parse_suite(kSuite, "fake.toml"), options(), executor);
  try {
    again.start(5);
    FAIL() << "expected an error";
  } catch (const CommandError& error) {
    EXPECT_NE(std::string{error.what()}.find("--resume"), std::string::npos);
  }
}

TEST_F(SuiteRunnerTest, UnpatchedArmBootsUnpatchedKernel) {
  testing::FakeExecutor executor;
  std::string suite = std::string{kSuite} + "";
  suite.replace(suite.find("warmups = 1"), 11, "warmups = 0\narms = [\"baseline\", \"nozero\", \"unpatched\"]");
  SuiteRunner runner(parse_suite(suite, "fake.toml"), options(suite), executor);
  runner.start(8);
  ASSERT_TRUE(runner.run_pending());
  ASSERT_GE(executor.configs.size(), 2u);
  for (std::size_t boot = 0; boot < executor.plans.size(); ++boot) {
    bool unpatched = executor.configs[boot].kernel_image == "/cache/unpatched/bzImage";
    for (const RunSpec& spec : executor.plans[boot].runs) EXPECT_EQ(spec.arm == "unpatched", unpatched);
  }
  nlohmann::json results = saved_results();
  EXPECT_EQ(results["context"]["guest_unpatched"]["patched"], false);
  EXPECT_EQ(unfinished_runs(results), 0u);
}

TEST_F(SuiteRunnerTest, DerivedMetricsAndSummary) {
  testing::FakeExecutor executor;
  SuiteRunner runner(parse_suite(kSuite, "fake.toml"), options(), executor);
  runner.start(5);
  ASSERT_TRUE(runner.run_pending());
  nlohmann::json results = saved_results();
  for (const nlohmann::json& run : results["runs"]) {
    const nlohmann::json& metrics = run["metrics"];
    if (run["arm"] == "nozero") {
      // The leak checker's 100 MAP_NOZERO faults are taken out: its 40 reuses from
      // nozero_reuse, its 60 clears from nozero_clear.
      EXPECT_DOUBLE_EQ(metrics["nozero_reuse_rate"]["value"].get<double>(), 9760.0 / 9900.0);
      EXPECT_DOUBLE_EQ(metrics["nozero_reuse_per_fault"]["value"].get<double>(), 0.976);
      EXPECT_DOUBLE_EQ(metrics["clear_page_hits"]["value"].get<double>(), 400);
    } else {
      EXPECT_FALSE(metrics.contains("nozero_reuse_rate"));
      EXPECT_DOUBLE_EQ(metrics["clear_page_hits"]["value"].get<double>(), 10000);
    }
    EXPECT_EQ(metrics["clear_page_hits"]["better"], "lower");
  }
  std::string summary = format_summary(results);
  EXPECT_NE(summary.find("Measured on: TCG guest (emulated CPU"), std::string::npos) << summary;
  EXPECT_NE(summary.find("ebizzy-m        records_per_s (+)"), std::string::npos) << summary;
  // Medians 1001 and 1101: ratio 1.100; reuse 98.0%; hits 10000 / 400; no leaks.
  EXPECT_NE(summary.find("1.100"), std::string::npos) << summary;
  EXPECT_NE(summary.find("98.6%"), std::string::npos) << summary;
  EXPECT_NE(summary.find("10000 / 400"), std::string::npos) << summary;
  EXPECT_NE(summary.find("3/3 3/3"), std::string::npos) << summary;
  EXPECT_EQ(total_leaks(results), 0);
}

nlohmann::json clear_benchmarks() {
  return {{{"name", "clear"},
           {"status", "ok"},
           {"document",
            {{"benchmarks",
              {{{"name", "clear/rep_stosb/4k/cold"}, {"run_type", "iteration"}, {"ns_per_page", 100.0}},
               {{"name", "clear/rep_stosb/2m/cold"}, {"run_type", "iteration"}, {"ns_per_page", 80.0}}}}}}}};
}

// The statistics commands (compare, gate, report) read what the runner writes.
TEST_F(SuiteRunnerTest, StatisticsReadTheRunnersResults) {
  // Four repetitions per arm, the fewest with which the gate can decide.
  std::string suite = kSuite;
  suite.replace(suite.find("repetitions = 3"), 15, "repetitions = 4");
  suite.replace(suite.find("repetitions = 2"), 15, "repetitions = 4");
  testing::FakeExecutor executor;
  SuiteRunner runner(parse_suite(suite, "fake.toml"), options(suite), executor);
  runner.start(5);
  ASSERT_TRUE(runner.run_pending());
  stats::LoadedResults loaded = stats::load_results(directory_);
  ASSERT_TRUE(loaded.workloads.contains("ebizzy-m"));
  const auto& arms = loaded.workloads.at("ebizzy-m").arms;
  ASSERT_TRUE(arms.contains("baseline"));
  ASSERT_TRUE(arms.contains("nozero"));
  const stats::MetricSeries& records = arms.at("nozero").at("records_per_s");
  EXPECT_TRUE(records.headline);
  EXPECT_EQ(records.values.size(), 4u);
  // The runner's diagnostics are read but are not headline metrics.
  EXPECT_FALSE(arms.at("nozero").at("clear_page_hits").headline);
  EXPECT_FALSE(arms.at("nozero").at("nozero_reuse_rate").headline);
  // Only the profiled function has a time; the kprobe entry counts calls.
  EXPECT_DOUBLE_EQ(arms.at("baseline").at("clear_page_us").values.at(0), 1000.0);

  stats::GateOptions gate;
  gate.relative_to = "baseline";
  stats::GateResult verdict = stats::evaluate_gate(loaded, loaded, gate);
  EXPECT_TRUE(verdict.errors.empty()) << verdict.errors.front();
  EXPECT_FALSE(verdict.regressed());
  bool records_checked = false;
  for (const stats::GateCheck& check : verdict.checks) {
    records_checked |= check.comparison.metric == "records_per_s";
    EXPECT_NE(check.comparison.metric, "clear_page_hits");
  }
  EXPECT_TRUE(records_checked);
}

// Guest results with one nozero run of fixed-work workload "w" (9 s).
nlohmann::json fixed_work_guest(const nlohmann::json& leak_check, const nlohmann::json& vmstat_delta) {
  return {{"context", {{"headline_metrics", {{"w", "wall_s"}}}}},
          {"runs",
           {{{"workload", "w"},
             {"arm", "nozero"},
             {"status", "ok"},
             {"warmup", false},
             {"metrics", {{"wall_s", {{"value", 9.0}, {"unit", "s"}}}}},
             {"leak_check", leak_check},
             {"vmstat_delta", vmstat_delta}}}}};
}

// Host results with one baseline run of "w" (3 s, 1 s of CPU) and the clear benchmarks.
nlohmann::json fixed_work_host(const nlohmann::json& rusage, const nlohmann::json& perf) {
  return {{"runs",
           {{{"workload", "w"},
             {"arm", "baseline"},
             {"status", "ok"},
             {"warmup", false},
             {"wall_s", 3.0},
             {"metrics", {{"wall_s", {{"value", 3.0}, {"unit", "s"}}}}},
             {"rusage", rusage},
             {"perf", perf}}}},
          {"benchmarks", clear_benchmarks()}};
}

TEST(Projection, FixedWorkWorkloadCountsRuns) {
  nlohmann::json guest = fixed_work_guest({{"nozero_faults", 100}, {"own_reused_pages", 100}},
                                          {{"nozero_reuse", 1100}, {"nozero_thp_reuse", 2}});
  nlohmann::json host = fixed_work_host({{"utime_s", 0.5}, {"stime_s", 0.5}}, {{"clear_page_share", 0.05}});
  nlohmann::json projection = make_projection(guest, host);
  ASSERT_TRUE(projection["available"].get<bool>()) << projection.dump(2);
  EXPECT_EQ(projection["kind"], "estimate");
  EXPECT_DOUBLE_EQ(projection["host_clear_ns_per_4k"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(projection["host_clear_ns_per_2m"].get<double>(), 80.0 * 512);
  const nlohmann::json& entry = projection["workloads"][0];
  EXPECT_EQ(entry["work_unit"], "run");
  // smiffy's 100 faults are not the workload's: 1000 pages and 2 folios per run.
  EXPECT_DOUBLE_EQ(entry["estimated_clears_avoided_4k"].get<double>(), 1000.0);
  EXPECT_DOUBLE_EQ(entry["estimated_clears_avoided_thp"].get<double>(), 2.0);
  // 1000 x 100 ns + 2 x 40960 ns = 181.92 us of 1 s CPU.
  EXPECT_NEAR(entry["estimated_saving_s"].get<double>(), 181.92e-6, 1e-12);
  EXPECT_NEAR(entry["estimated_saving_share_of_cpu"].get<double>(), 181.92e-6, 1e-12);
  EXPECT_DOUBLE_EQ(entry["host_clear_page_share"].get<double>(), 0.05);
  EXPECT_NE(format_projection(projection).find("an estimate"), std::string::npos);
}

// A workload that faults less per unit of work on the host than in the guest
// cannot avoid more clears than the host's own faults.
TEST(Projection, HostFaultsBoundClearsAvoided) {
  nlohmann::json guest = fixed_work_guest({{"nozero_faults", 0}, {"own_reused_pages", 0}}, {{"nozero_reuse", 5000}});
  nlohmann::json host =
      fixed_work_host({{"utime_s", 0.5}, {"stime_s", 0.5}, {"minflt", 1200}}, nlohmann::json::object());
  nlohmann::json projection = make_projection(guest, host);
  const nlohmann::json& entry = projection["workloads"][0];
  EXPECT_DOUBLE_EQ(entry["estimated_clears_avoided_4k"].get<double>(), 1200.0);
  EXPECT_TRUE(entry["capped_at_host_faults"].get<bool>());
  EXPECT_DOUBLE_EQ(entry["host_minor_faults"].get<double>(), 1200.0);
}

TEST(Projection, RateWorkloadCountsRecords) {
  // The guest did 100 records/s for 2 s and avoided 1000 clears: 5 per record.
  // The host did 1000 records/s for 2 s: 10000 clears avoided.
  nlohmann::json guest = {{"context", {{"headline_metrics", {{"e", "records_per_s"}}}}},
                          {"runs",
                           {{{"workload", "e"},
                             {"arm", "nozero"},
                             {"status", "ok"},
                             {"warmup", false},
                             {"wall_s", 3.0},
                             {"metrics",
                              {{"records_per_s", {{"value", 100.0}, {"unit", "records/s"}}},
                               {"elapsed_s", {{"value", 2.0}, {"unit", "s"}}}}},
                             {"vmstat_delta", {{"nozero_reuse", 1000}}}}}}};
  nlohmann::json host = {{"runs",
                          {{{"workload", "e"},
                            {"arm", "baseline"},
                            {"status", "ok"},
                            {"warmup", false},
                            {"metrics",
                             {{"records_per_s", {{"value", 1000.0}, {"unit", "records/s"}}},
                              {"elapsed_s", {{"value", 2.0}, {"unit", "s"}}}}},
                            {"rusage", {{"utime_s", 1.0}, {"stime_s", 1.0}}}}}},
                         {"benchmarks", clear_benchmarks()}};
  nlohmann::json projection = make_projection(guest, host);
  const nlohmann::json& entry = projection["workloads"][0];
  EXPECT_EQ(entry["work_unit"], "records");
  EXPECT_DOUBLE_EQ(entry["guest_reused_pages_per_unit"].get<double>(), 5.0);
  EXPECT_DOUBLE_EQ(entry["host_units"].get<double>(), 2000.0);
  EXPECT_DOUBLE_EQ(entry["estimated_clears_avoided_4k"].get<double>(), 10000.0);
  EXPECT_NEAR(entry["estimated_saving_s"].get<double>(), 1e-3, 1e-12);
}

TEST(Projection, SaysWhyWhenTheClearCostIsMissing) {
  nlohmann::json projection = make_projection(nlohmann::json::object(), nlohmann::json{{"benchmarks", nlohmann::json::array()}});
  EXPECT_FALSE(projection["available"].get<bool>());
  EXPECT_NE(projection["reason"].get<std::string>().find("clear/rep_stosb/4k/cold"), std::string::npos);
  EXPECT_NE(format_projection(projection).find("not available"), std::string::npos);
}

}  // namespace
}  // namespace nozero::run

namespace nozero::run {
namespace {

TEST(RunProgress, EstimatesFromFinishedRuns) {
  auto now = std::chrono::steady_clock::time_point{};
  Progress progress([&now] { return now; });
  progress.begin({"a", "b", "a", "b"}, 2);
  EXPECT_FALSE(progress.remaining_s().has_value());

  progress.boot_started();
  now += std::chrono::seconds(10);  // boot
  progress.guest_ready();
  now += std::chrono::seconds(4);
  std::string line = progress.run_finished("a baseline repetition 0", "ok");
  EXPECT_EQ(line, "[1/4] a baseline repetition 0: ok | 14.0s elapsed, about 22.0s left");
  // b unseen: the mean of all runs (4 s); a: 4 s; b: 4 s; one boot of 10 s left.
  EXPECT_DOUBLE_EQ(*progress.remaining_s(), 4 + 4 + 4 + 10);

  now += std::chrono::seconds(8);
  progress.run_finished("b nozero repetition 0", "failed");
  // a: 4 s, b: 8 s, one boot of 10 s.
  EXPECT_DOUBLE_EQ(*progress.remaining_s(), 4 + 8 + 10);
  now += std::chrono::seconds(2);
  progress.boot_finished();
  // The boot cost 10 s to start and 2 s to end.
  EXPECT_DOUBLE_EQ(*progress.remaining_s(), 4 + 8 + 12);
}

}  // namespace
}  // namespace nozero::run

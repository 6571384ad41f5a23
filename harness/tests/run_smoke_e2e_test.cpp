// The smoke suite end to end: a real patched kernel booted under QEMU, both arms,
// the leak checker, kprobes, ftrace and perf. Checks what the suite exists to
// show: the nozero arm reuses pages and clears fewer of them, and smiffy, running
// as another user, never sees a page that was not zero.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/process.h"

namespace {

nlohmann::json run_smoke_suite() {
  std::filesystem::path directory = NOZERO_TEST_OUTPUT;
  std::filesystem::remove_all(directory);
  std::vector<std::string> argv = {NOZERO_BENCH_BINARY, "run",          "smoke",
                                   "--out",             directory.string(), "--kernel-cache",
                                   NOZERO_TEST_KERNEL_CACHE, "--no-host-reference"};
  nozero::RunOptions options;
  options.timeout = std::chrono::minutes(20);
  nozero::ProcessResult result = nozero::run_process(argv, options);
  EXPECT_EQ(result.exit_status, 0) << result.stdout_text << result.stderr_text;
  std::ifstream file(directory / "results.json");
  EXPECT_TRUE(file.good()) << "no results.json in " << directory;
  return nlohmann::json::parse(file);
}

class SmokeSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { results_ = new nlohmann::json(run_smoke_suite()); }
  static void TearDownTestSuite() { delete results_; }

  // The measured (not warmup) runs of one workload and arm.
  static std::vector<nlohmann::json> runs(const std::string& workload, const std::string& arm) {
    std::vector<nlohmann::json> found;
    for (const nlohmann::json& run : (*results_)["runs"]) {
      if (run["workload"] == workload && run["arm"] == arm && !run["warmup"].get<bool>()) found.push_back(run);
    }
    return found;
  }

  static double metric(const nlohmann::json& run, const std::string& name) {
    return run["metrics"][name]["value"].get<double>();
  }

  static nlohmann::json* results_;
};

nlohmann::json* SmokeSuite::results_ = nullptr;

const char* const kWorkloads[] = {"nzmmap", "ebizzy-mmap"};

TEST_F(SmokeSuite, ContextRecordsPatchedGuest) {
  const nlohmann::json& context = (*results_)["context"];
  EXPECT_EQ(context["guest"]["patched"], true);
  EXPECT_EQ(context["guest"]["environment"]["nozero"]["kernel_support"], "supported");
  std::string measured_on = context["measured_on"];
  EXPECT_TRUE(measured_on == "TCG guest" || measured_on == "KVM guest") << measured_on;
  EXPECT_EQ(context["suite"]["name"], "smoke");
  EXPECT_TRUE(context["seed"].is_number());
  EXPECT_EQ(context["guest"]["environment"]["kprobes"]["available"], true);
}

TEST_F(SmokeSuite, BothArmsRanEveryRepetition) {
  for (const char* workload : kWorkloads) {
    for (const char* arm : {"baseline", "nozero"}) {
      std::vector<nlohmann::json> measured = runs(workload, arm);
      EXPECT_EQ(measured.size(), 2u) << workload << " " << arm;
      for (const nlohmann::json& run : measured) {
        EXPECT_EQ(run["status"], "ok") << workload << " " << arm << ": " << run["error"];
      }
    }
  }
}

TEST_F(SmokeSuite, NozeroArmReusesPages) {
  for (const char* workload : kWorkloads) {
    for (const nlohmann::json& run : runs(workload, "nozero")) {
      EXPECT_GT(run["vmstat_delta"]["nozero_reuse"].get<double>(), 0) << workload;
      EXPECT_GE(metric(run, "nozero_reuse_rate"), 0.9) << workload;
    }
    for (const nlohmann::json& run : runs(workload, "nozero")) {
      // smiffy counts its own MAP_NOZERO faults and, by its marker, those that
      // got its own page back.
      EXPECT_GT(run["leak_check"]["nozero_faults"].get<double>(), 0) << workload;
      EXPECT_LE(run["leak_check"]["own_reused_pages"].get<double>(), run["leak_check"]["nozero_faults"].get<double>())
          << workload;
    }
    for (const nlohmann::json& run : runs(workload, "baseline")) {
      // Only smiffy's own MAP_NOZERO faults: nothing is left once they are taken out.
      EXPECT_LE(run["vmstat_delta"]["nozero_reuse"].get<double>(),
                run["leak_check"]["nozero_faults"].get<double>())
          << workload;
    }
  }
}

TEST_F(SmokeSuite, NozeroArmClearsFewerPages) {
  for (const char* workload : kWorkloads) {
    double max_nozero = 0;
    double min_baseline = 1e300;
    for (const nlohmann::json& run : runs(workload, "nozero")) {
      ASSERT_EQ(run["clear_page"]["functions"]["clear_page_erms"]["source"], "kprobe") << workload;
      max_nozero = std::max(max_nozero, metric(run, "clear_page_hits"));
    }
    for (const nlohmann::json& run : runs(workload, "baseline")) {
      min_baseline = std::min(min_baseline, metric(run, "clear_page_hits"));
    }
    EXPECT_LT(max_nozero, min_baseline) << workload;
  }
}

TEST_F(SmokeSuite, SmiffyFoundNothing) {
  std::size_t checked = 0;
  for (const nlohmann::json& run : (*results_)["runs"]) {
    const nlohmann::json& leak = run["leak_check"];
    ASSERT_TRUE(leak.is_object()) << run["order_index"];
    EXPECT_EQ(leak["uid"], 1001);
    EXPECT_EQ(leak["nonzero_pages"], 0) << run["order_index"];
    EXPECT_GT(leak["pages_scanned"].get<double>(), 0) << run["order_index"];
    ++checked;
  }
  EXPECT_EQ(checked, (*results_)["runs"].size());
}

TEST_F(SmokeSuite, ProfilesAreSummarised) {
  for (const char* workload : kWorkloads) {
    for (const nlohmann::json& run : runs(workload, "baseline")) {
      EXPECT_GT(run["perf"]["samples"].get<double>(), 0) << workload;
      EXPECT_FALSE(run["perf"]["top_symbols"].empty()) << workload;
      EXPECT_TRUE(std::filesystem::exists(std::filesystem::path{NOZERO_TEST_OUTPUT} / run["perf"]["perf_data"].get<std::string>()));
    }
  }
}

// What the run writes is what compare and report read: a kprobe entry with hits and
// no time, the runner's diagnostics among the metrics.
TEST_F(SmokeSuite, CompareAndReportReadTheResults) {
  const std::string directory = NOZERO_TEST_OUTPUT;
  nozero::RunOptions options;
  options.timeout = std::chrono::minutes(5);
  nozero::ProcessResult compare =
      nozero::run_process({NOZERO_BENCH_BINARY, "compare", directory, directory}, options);
  EXPECT_EQ(compare.exit_status, 0) << compare.stdout_text << compare.stderr_text;
  EXPECT_NE(compare.stdout_text.find("ebizzy-mmap"), std::string::npos) << compare.stdout_text;

  const std::string report_dir = directory + "-report";
  std::filesystem::remove_all(report_dir);
  nozero::ProcessResult report =
      nozero::run_process({NOZERO_BENCH_BINARY, "report", directory, "--out", report_dir}, options);
  EXPECT_EQ(report.exit_status, 0) << report.stdout_text << report.stderr_text;
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path{report_dir} / "report.json"));
}

}  // namespace

// nzbench-summary's parsing and arithmetic on hand-written Google Benchmark output.
#include <gtest/gtest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "summary.h"

namespace nozero::benches {
namespace {

using nlohmann::json;

json context(const std::string& measured_on = "TCG guest", const std::string& kernel = "6.12.57") {
  return {{"measured_on", measured_on},
          {"kernel_release", kernel},
          {"cpu_model", "QEMU TCG CPU version 2.5+"},
          {"nozero_kernel_support", "supported"},
          {"counter_mode", "software: no PMU"}};
}

json run(const std::string& name, json counters) {
  json entry = {{"name", name}, {"run_name", name}, {"run_type", "iteration"}, {"repetitions", 1},
                {"repetition_index", 0}, {"threads", 1}, {"iterations", 10}, {"real_time", 1.0},
                {"cpu_time", 1.0}, {"time_unit", "ns"}};
  entry.update(counters);
  return entry;
}

json page_run(const std::string& name, double ns_per_page, json extra = json::object()) {
  json counters = {{"ns_per_page", ns_per_page},
                   {"pages_per_s", 1e9 / ns_per_page},
                   {"bytes_per_second", 4096e9 / ns_per_page}};
  counters.update(extra);
  return run(name, counters);
}

json failed_run(const std::string& name, const std::string& message) {
  json entry = run(name, json::object());
  entry["error_occurred"] = true;
  entry["error_message"] = message;
  return entry;
}

BenchmarkFile file(const std::string& path, json benchmarks, json file_context = context()) {
  const json document = {{"context", file_context}, {"benchmarks", benchmarks}};
  return parse_benchmark_file(path, document.dump());
}

TEST(ParseBenchmarkFile, SingleRun) {
  const BenchmarkFile parsed = file("a.json", json::array({page_run("fault_4k/baseline", 2000.0)}));
  ASSERT_TRUE(parsed.benchmarks.contains("fault_4k/baseline"));
  const BenchmarkValues& values = parsed.benchmarks.at("fault_4k/baseline");
  EXPECT_EQ(values.basis, "1 run");
  EXPECT_DOUBLE_EQ(values.values.at("ns_per_page"), 2000.0);
  EXPECT_FALSE(values.values.contains("iterations"));
}

TEST(ParseBenchmarkFile, MeanOfRepetitions) {
  const BenchmarkFile parsed = file(
      "a.json", json::array({page_run("fault_4k/baseline", 1000.0), page_run("fault_4k/baseline", 3000.0)}));
  const BenchmarkValues& values = parsed.benchmarks.at("fault_4k/baseline");
  EXPECT_EQ(values.basis, "mean of 2 repetitions");
  EXPECT_DOUBLE_EQ(values.values.at("ns_per_page"), 2000.0);
}

TEST(ParseBenchmarkFile, PrefersMedianAggregate) {
  json mean = page_run("fault_4k/baseline", 5000.0);
  mean["name"] = "fault_4k/baseline_mean";
  mean["run_type"] = "aggregate";
  mean["aggregate_name"] = "mean";
  json median = page_run("fault_4k/baseline", 1500.0);
  median["name"] = "fault_4k/baseline_median";
  median["run_type"] = "aggregate";
  median["aggregate_name"] = "median";
  const BenchmarkFile parsed =
      file("a.json", json::array({page_run("fault_4k/baseline", 1000.0), page_run("fault_4k/baseline", 1500.0),
                                  page_run("fault_4k/baseline", 9000.0), mean, median}));

  const BenchmarkValues& values = parsed.benchmarks.at("fault_4k/baseline");
  EXPECT_EQ(values.basis, "median of 3 repetitions");
  EXPECT_DOUBLE_EQ(values.values.at("ns_per_page"), 1500.0);
}

TEST(ParseBenchmarkFile, KeepsErrorMessage) {
  const BenchmarkFile parsed = file("a.json", json::array({failed_run("fault_4k/nozero", "no support")}));
  ASSERT_TRUE(parsed.benchmarks.at("fault_4k/nozero").error.has_value());
  EXPECT_EQ(*parsed.benchmarks.at("fault_4k/nozero").error, "no support");
}

TEST(ParseBenchmarkFile, AcceptsNonFiniteValues) {
  const std::string text = R"({"context": {}, "benchmarks": [
    {"name": "fault_4k/baseline", "run_name": "fault_4k/baseline", "run_type": "iteration",
     "ns_per_page": 2000.0, "page_faults": NaN, "cpu_time": Infinity, "real_time": -Infinity}]})";
  const BenchmarkFile parsed = parse_benchmark_file("a.json", text);
  const BenchmarkValues& values = parsed.benchmarks.at("fault_4k/baseline");
  EXPECT_DOUBLE_EQ(values.values.at("ns_per_page"), 2000.0);
  EXPECT_FALSE(values.values.contains("page_faults"));
  EXPECT_FALSE(values.values.contains("cpu_time"));
  EXPECT_FALSE(values.values.contains("real_time"));
}

TEST(ParseBenchmarkFile, RejectsInvalidJson) {
  try {
    parse_benchmark_file("broken.json", "{\"context\": ");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("broken.json: invalid JSON"), std::string::npos) << error.what();
  }
}

TEST(ParseBenchmarkFile, RejectsOtherJson) {
  try {
    parse_benchmark_file("results.json", R"({"schema": "nozero-bench/results"})");
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("results.json: not Google Benchmark JSON output"), std::string::npos)
        << error.what();
  }
}

TEST(LoadBenchmarkFile, RejectsMissingFile) {
  EXPECT_THROW(load_benchmark_file("/nonexistent/fault.json"), InputError);
}

TEST(Summarise, ShareOfFault) {
  const auto summary = summarise({file("a.json", json::array({page_run("fault_4k/baseline", 2000.0),
                                                              page_run("clear/rep_stosb/4k/cold", 100.0),
                                                              page_run("clear/rep_stosb/4k/hot", 20.0)}))});
  const auto& cold = summary["clear_share_of_fault"]["4k"]["cold"];
  EXPECT_EQ(cold["status"], "measured");
  EXPECT_DOUBLE_EQ(cold["share"].get<double>(), 0.05);
  EXPECT_DOUBLE_EQ(cold["speedup_without_clear"].get<double>(), 1.0 / 0.95);
  EXPECT_DOUBLE_EQ(summary["clear_share_of_fault"]["4k"]["hot"]["share"].get<double>(), 0.01);
  EXPECT_EQ(summary["clear_share_of_fault"]["thp"]["cold"]["status"], "missing");
}

TEST(Summarise, ClearSlowerThanFault) {
  const auto summary = summarise({file("a.json", json::array({page_run("fault_4k/baseline", 100.0),
                                                              page_run("clear/rep_stosb/4k/cold", 150.0)}))});
  const auto& cold = summary["clear_share_of_fault"]["4k"]["cold"];
  EXPECT_TRUE(cold["speedup_without_clear"].is_null());
  EXPECT_TRUE(cold.contains("note"));
}

TEST(Summarise, PhysicalLimitTakesBestColdClear) {
  const auto summary = summarise({file("a.json", json::array({page_run("fault_4k/baseline", 4096.0),
                                                              page_run("clear/rep_stosb/4k/cold", 200.0),
                                                              page_run("clear/movntdq/2m/cold", 100.0),
                                                              page_run("clear/memset/2m/hot", 10.0)}))});
  const auto& limit = summary["physical_limit"];
  EXPECT_EQ(limit["clear_best_cold"]["benchmark"], "clear/movntdq/2m/cold");
  EXPECT_DOUBLE_EQ(limit["clear_best_cold"]["bytes_per_s"].get<double>(), 4096e9 / 100.0);
  EXPECT_DOUBLE_EQ(limit["fault_4k/baseline"]["clear_bandwidth_ratio"].get<double>(), 4096.0 / 100.0);
}

TEST(Summarise, NozeroThpSpeedupMeetsTarget) {
  const auto summary = summarise({file(
      "a.json", json::array({page_run("fault_thp/baseline", 400.0),
                             page_run("fault_thp/nozero", 50.0,
                                      {{"vmstat_nozero_thp_reuse", 7.0}, {"vmstat_nozero_thp_clear", 1.0}})}))});
  const auto& thp = summary["nozero"]["fault_thp"];
  EXPECT_EQ(thp["status"], "measured");
  EXPECT_DOUBLE_EQ(thp["speedup"].get<double>(), 8.0);
  EXPECT_DOUBLE_EQ(thp["removed_share"].get<double>(), 1.0 - 50.0 / 400.0);
  EXPECT_DOUBLE_EQ(thp["reuse_share"].get<double>(), 7.0 / 8.0);
  EXPECT_DOUBLE_EQ(thp["target_speedup"].get<double>(), 5.0);
  EXPECT_TRUE(thp["target_met"].get<bool>());
}

TEST(Summarise, NozeroThpSpeedupMissesTarget) {
  const auto summary = summarise({file(
      "a.json", json::array({page_run("fault_thp/baseline", 400.0), page_run("fault_thp/nozero", 100.0)}))});
  const auto& thp = summary["nozero"]["fault_thp"];
  EXPECT_DOUBLE_EQ(thp["speedup"].get<double>(), 4.0);
  EXPECT_FALSE(thp["target_met"].get<bool>());
  EXPECT_TRUE(thp["reuse_share"].is_null());
}

TEST(Summarise, SkippedNozeroArmNotMeasured) {
  const auto summary = summarise({file(
      "a.json", json::array({page_run("fault_thp/baseline", 400.0),
                             failed_run("fault_thp/nozero", "MAP_NOZERO arm not run: kernel support is disabled")}))});
  const auto& thp = summary["nozero"]["fault_thp"];
  EXPECT_EQ(thp["status"], "not measured");
  EXPECT_NE(thp["reason"].get<std::string>().find("kernel support is disabled"), std::string::npos);
  EXPECT_TRUE(thp["target_met"].is_null());
  EXPECT_EQ(summary["nozero"]["fault_4k"]["reason"], "fault_4k/nozero is not in the input files");
}

TEST(Summarise, RejectsMixedPlaces) {
  const auto host = file("host.json", json::array({page_run("fault_4k/baseline", 2000.0)}), context("host"));
  const auto guest = file("guest.json", json::array({page_run("clear/rep_stosb/4k/cold", 100.0)}));
  try {
    summarise({host, guest});
    FAIL() << "expected InputError";
  } catch (const InputError& error) {
    EXPECT_NE(std::string(error.what()).find("guest.json: context measured_on is 'TCG guest' but host.json has 'host'"),
              std::string::npos)
        << error.what();
  }
}

TEST(Summarise, RejectsMixedKernels) {
  const auto first = file("a.json", json::array({page_run("fault_4k/baseline", 2000.0)}));
  const auto second = file("b.json", json::array({page_run("clear/rep_stosb/4k/cold", 100.0)}),
                           context("TCG guest", "6.12.58"));
  EXPECT_THROW(summarise({first, second}), InputError);
}

TEST(Summarise, RejectsDuplicateBenchmark) {
  const auto first = file("a.json", json::array({page_run("fault_4k/baseline", 2000.0)}));
  const auto second = file("b.json", json::array({page_run("fault_4k/baseline", 2100.0)}));
  EXPECT_THROW(summarise({first, second}), InputError);
}

TEST(Summarise, RejectsUnknownBenchmarks) {
  EXPECT_THROW(summarise({file("a.json", json::array({page_run("BM_Other", 1.0)}))}), InputError);
  EXPECT_THROW(summarise({}), InputError);
}

TEST(FormatSummary, LabelsEveryTiming) {
  const auto summary = summarise({file(
      "a.json", json::array({page_run("fault_4k/baseline", 2000.0), page_run("clear/rep_stosb/4k/cold", 100.0),
                             page_run("fault_thp/baseline", 400.0), page_run("fault_thp/nozero", 50.0)}))});
  const std::string text = format_summary(summary);
  EXPECT_NE(text.find("measured on TCG guest"), std::string::npos) << text;
  EXPECT_NE(text.find("2000.0 ns per 4 KiB page, 2.05 GB/s [TCG guest]"), std::string::npos) << text;
  EXPECT_NE(text.find("= 5.0% of the fault"), std::string::npos) << text;
  EXPECT_NE(text.find("speed-up 8.00x (removes 87.5% of the fault)"), std::string::npos) << text;
  EXPECT_NE(text.find("target 5x met"), std::string::npos) << text;
}

}  // namespace
}  // namespace nozero::benches

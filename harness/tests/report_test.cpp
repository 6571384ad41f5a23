// `nozero-bench report` on the recorded fixtures: the statistics document, the
// Markdown and HTML it renders, the index over several reports, and bad input.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "stats/report_data.h"
#include "stats/subcommands.h"
#include "stats_test_support.h"

namespace nozero::stats {
namespace {

using nlohmann::json;
using testing::fixture;
using testing::output_dir;
using testing::run_nozero_bench;

std::string read_text(const std::filesystem::path& path) {
  std::ifstream input(path);
  std::stringstream buffer;
  buffer << input.rdbuf();
  return buffer.str();
}

json build(const std::string& name) {
  ReportOptions options;
  options.resamples = 2000;
  options.generated_at = "2026-12-04T00:00:00Z";
  return json::parse(build_report({load_results(fixture("results/" + name))}, options).dump());
}

const json& workload(const json& report, const std::string& name) {
  for (const json& entry : report["workloads"]) {
    if (entry["name"] == name) {
      return entry;
    }
  }
  throw std::runtime_error("no workload " + name);
}

bool contains_text(const json& list, const std::string& text) {
  for (const json& item : list) {
    if (item.get<std::string>().find(text) != std::string::npos) {
      return true;
    }
  }
  return false;
}

TEST(ReportData, ComparesArmsAgainstBaseline) {
  const json report = build("tcg-base.json");
  EXPECT_EQ(report["schema"], "nozero-bench/report");
  EXPECT_EQ(report["measured_on"], "TCG guest");
  ASSERT_EQ(report["workloads"].size(), 3U);

  const json& ebizzy = workload(report, "ebizzy-m");
  EXPECT_EQ(ebizzy["arms"]["nozero"]["metrics"]["records_per_s"]["values"].size(), 8U);
  EXPECT_EQ(ebizzy["arms"]["nozero"]["metrics"]["records_per_s"]["summary"]["n"], 8);
  bool nozero_records = false;
  for (const json& comparison : ebizzy["comparisons"]) {
    if (comparison["arm"] == "nozero" && comparison["metric"] == "records_per_s") {
      nozero_records = true;
      EXPECT_EQ(comparison["verdict"], "improved");
      EXPECT_GT(comparison["change_pct"].get<double>(), 20);
      EXPECT_EQ(comparison["mann_whitney"]["method"], "exact");
    }
  }
  EXPECT_TRUE(nozero_records);
  // ebizzy-m's unpatched arm, nzmmap-test and cc-sim give four headline comparisons.
  EXPECT_EQ(report["headline"].size(), 4U);
}

TEST(ReportData, CarriesClearPageSymbolsReuseAndLeaks) {
  const json report = build("tcg-base.json");
  const json& nzmmap = workload(report, "nzmmap-test");
  EXPECT_EQ(nzmmap["arms"]["baseline"]["clear_page"]["hits"].size(), 8U);
  EXPECT_EQ(nzmmap["arms"]["baseline"]["clear_page"]["source"], "ftrace function profile");
  EXPECT_EQ(nzmmap["arms"]["nozero"]["perf"]["top_symbols"][0]["symbol"], "__memcpy_avx_unaligned_erms");
  EXPECT_EQ(nzmmap["arms"]["baseline"]["perf"]["top_symbols"][0]["symbol"], "clear_page_erms");
  EXPECT_GT(nzmmap["arms"]["nozero"]["vmstat_delta"]["nozero_reuse"]["median"].get<double>(), 0);
  EXPECT_EQ(nzmmap["arms"]["nozero"]["leak_check"]["passed"], true);
  EXPECT_EQ(nzmmap["arms"]["nozero"]["leak_check"]["runs"], 8);
  EXPECT_TRUE(nzmmap["arms"]["baseline"]["leak_check"].is_null());
}

TEST(ReportData, CaveatsNameEmulationPmuAndProjection) {
  const json report = build("tcg-base.json");
  EXPECT_TRUE(contains_text(report["caveats"], "measured in a TCG guest"));
  EXPECT_TRUE(contains_text(report["caveats"], "Why TCG: KVM probe boot timed out"));
  EXPECT_TRUE(contains_text(report["caveats"], "No hardware PMU"));
  EXPECT_TRUE(contains_text(report["caveats"], "host_clear_ns_per_4k = 196.0"));
  EXPECT_TRUE(contains_text(report["caveats"], "ebizzy-m: clear_page* functions take 3"));
  EXPECT_TRUE(contains_text(report["warnings"], "cc-sim/nozero: 1 run(s) did not finish"));
}

TEST(ReportData, SaysWhatWasNotMeasured) {
  const json report = build("tcg-sparse.json");
  EXPECT_TRUE(contains_text(report["caveats"], "clear_page time was not measured: function profiler not enabled"));
  EXPECT_TRUE(contains_text(report["caveats"], "The perf profile was not measured: perf not found in the guest"));
  EXPECT_TRUE(contains_text(report["caveats"], "No projection to hardware timings: the host results have no"));
  const json& ebizzy = workload(report, "ebizzy-m");
  EXPECT_TRUE(ebizzy["arms"]["nozero"]["clear_page"].is_null());
  EXPECT_TRUE(ebizzy["arms"]["nozero"]["perf"].is_null());
  EXPECT_TRUE(ebizzy["arms"]["nozero"]["leak_check"].is_null());
  EXPECT_FALSE(ebizzy["arms"]["nozero"]["metrics"].contains("clear_page_hits"));
}

TEST(ReportCommand, RendersSparseResults) {
  const auto dir = output_dir("report-sparse");
  const auto result =
      run_nozero_bench("report '" + fixture("results/tcg-sparse.json").string() + "' --out '" + dir.string() + "'");
  ASSERT_EQ(result.exit_status, 0) << result.output;
  const std::string html = read_text(dir / "report.html");
  EXPECT_NE(html.find("plot-samples-ebizzy-m"), std::string::npos);
  EXPECT_EQ(html.find("plot-clear-page-ebizzy-m"), std::string::npos);
  EXPECT_NE(html.find("No projection: the host results have no nzbench-clear benchmark"), std::string::npos);
}

TEST(ReportCommand, WritesMarkdownAndSelfContainedHtml) {
  const auto dir = output_dir("report-command");
  const auto result =
      run_nozero_bench("report '" + fixture("results/tcg-base.json").string() + "' --out '" + dir.string() + "'");
  ASSERT_EQ(result.exit_status, 0) << result.output;

  const std::string markdown = read_text(dir / "report.md");
  for (const char* text : {"## Caveats", "## Summary", "## Workload ebizzy-m", "| ebizzy-m | records_per_s | nozero vs "
                           "baseline |", "### Leak check", "PASS", "## Setup", "TCG guest"}) {
    EXPECT_NE(markdown.find(text), std::string::npos) << text;
  }

  const std::string html = read_text(dir / "report.html");
  EXPECT_NE(html.find("Content-Security-Policy"), std::string::npos);
  EXPECT_NE(html.find("data:image/png;base64,"), std::string::npos);
  for (const char* plot : {"plot-ratios", "plot-samples-ebizzy-m", "plot-clear-page-ebizzy-m", "plot-symbols-ebizzy-m",
                           "plot-samples-cc-sim", "plot-samples-nzmmap-test"}) {
    EXPECT_NE(html.find(plot), std::string::npos) << plot;
  }
  // Self-contained: no script, no stylesheet link and no remote URL.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

TEST(ReportCommand, PoolsSameSetupAndRejectsOther) {
  const auto dir = output_dir("report-pooled");
  const auto pooled = run_nozero_bench("report '" + fixture("results/tcg-base.json").string() + "' '" +
                                       fixture("results/tcg-aa.json").string() + "' --out '" + dir.string() + "'");
  ASSERT_EQ(pooled.exit_status, 0) << pooled.output;
  const json report = json::parse(read_text(dir / "report.json"));
  EXPECT_EQ(report["sources"].size(), 2U);
  EXPECT_EQ(workload(report, "ebizzy-m")["arms"]["baseline"]["metrics"]["records_per_s"]["values"].size(), 16U);

  const auto other = run_nozero_bench("report '" + fixture("results/tcg-base.json").string() + "' '" +
                                      fixture("results/tcg-other-setup.json").string() + "' --out '" +
                                      (dir / "other").string() + "'");
  EXPECT_EQ(other.exit_status, 2) << other.output;
  EXPECT_NE(other.output.find("thp: madvise vs always"), std::string::npos) << other.output;
}

TEST(ReportCommand, BadInputExitsTwo) {
  const auto dir = output_dir("report-bad");
  for (const char* name : {"bad/truncated.json", "bad/workload-output.json", "bad/schema-v2.json"}) {
    const auto result = run_nozero_bench("report '" + fixture(std::string{"results/"} + name).string() +
                                         "' --out '" + dir.string() + "'");
    EXPECT_EQ(result.exit_status, 2) << name << ": " << result.output;
    EXPECT_NE(result.output.find(name), std::string::npos) << result.output;
  }
  const auto no_out = run_nozero_bench("report '" + fixture("results/tcg-base.json").string() + "'");
  EXPECT_EQ(no_out.exit_status, 2) << no_out.output;
  EXPECT_NE(no_out.output.find("--out DIR is required"), std::string::npos) << no_out.output;
}

TEST(ReportIndex, ListsReportsNewestFirstWithTrends) {
  const auto site = output_dir("report-index");
  for (const char* name : {"tcg-regression", "tcg-base", "tcg-aa"}) {
    const auto result = run_nozero_bench("report --resamples 1000 '" +
                                         fixture(std::string{"results/"} + name + ".json").string() + "' --out '" +
                                         (site / name).string() + "'");
    ASSERT_EQ(result.exit_status, 0) << result.output;
  }
  const auto result = run_nozero_bench("report --index '" + site.string() + "'");
  ASSERT_EQ(result.exit_status, 0) << result.output;

  const json index = json::parse(read_text(site / "index.json"));
  ASSERT_EQ(index["reports"].size(), 3U);
  EXPECT_EQ(index["reports"][0]["dir"], "tcg-regression");
  EXPECT_EQ(index["reports"][1]["dir"], "tcg-aa");
  EXPECT_EQ(index["reports"][2]["dir"], "tcg-base");

  const std::string html = read_text(site / "index.html");
  EXPECT_NE(html.find("href=\"tcg-base/report.html\""), std::string::npos);
  EXPECT_NE(html.find("plot-trend-ebizzy-m-records_per_s"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

TEST(ReportIndex, RejectsEmptyDirectoryAndBrokenReport) {
  const auto empty = output_dir("report-index-empty");
  const auto none = run_nozero_bench("report --index '" + empty.string() + "'");
  EXPECT_EQ(none.exit_status, 2) << none.output;
  EXPECT_NE(none.output.find("no report directories"), std::string::npos) << none.output;

  std::filesystem::create_directories(empty / "broken");
  std::ofstream(empty / "broken" / "report.json") << "{\"schema\": \"nozero-bench/report\", ";
  const auto broken = run_nozero_bench("report --index '" + empty.string() + "'");
  EXPECT_EQ(broken.exit_status, 2) << broken.output;
  EXPECT_NE(broken.output.find("broken/report.json: not valid JSON"), std::string::npos) << broken.output;
}

}  // namespace
}  // namespace nozero::stats

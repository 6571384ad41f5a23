#include "reuse_probe.h"

#include <gtest/gtest.h>

#include <sstream>

#include "nozero/meminfo.h"
#include "testing/workload_schema.h"

namespace workloads {
namespace {

// Hands out the same pages every iteration without clearing them, as a kernel
// that recycles a process's own pages would.
class RecyclingSource : public PageSource {
 public:
  explicit RecyclingSource(std::size_t pages) : memory_((pages + 1) * nozero::page_size(), 0) {
    for (char* page : whole_pages(memory_.data(), memory_.size(), nozero::page_size())) {
      if (pages_.size() < pages) pages_.push_back(page);
    }
  }
  std::vector<char*> acquire() override {
    ++acquired;
    return pages_;
  }
  void release() override { ++released; }

  int acquired = 0;
  int released = 0;

 private:
  std::vector<char> memory_;
  std::vector<char*> pages_;
};

TEST(ReuseLoop, RecycledPagesCountAsOwnReuse) {
  RecyclingSource source(8);
  RunBound bound;
  bound.iterations = 3;
  std::ostringstream log;
  ReuseResult result = run_reuse_loop(bound, source, true, log);

  EXPECT_EQ(result.iterations, 3u);
  EXPECT_EQ(source.acquired, 3);
  EXPECT_EQ(source.released, 3);
  EXPECT_EQ(result.pages_scanned, 24u);
  // The first iteration gets zeroed pages, the next two get their own markers back.
  EXPECT_EQ(result.reused_per_iteration, (std::vector<double>{0, 8, 8}));
  EXPECT_EQ(result.reused_pages, 16u);
  EXPECT_EQ(result.origins[static_cast<std::size_t>(PageOrigin::own_marker)], 16u);
  EXPECT_EQ(result.origins[static_cast<std::size_t>(PageOrigin::unmarked)], 0u);
  EXPECT_DOUBLE_EQ(result.reused_rate(), 16.0 / 24.0);
  EXPECT_EQ(result.iteration_s.size(), 3u);
  EXPECT_NE(log.str().find("iteration 2: 8 of 8 pages reused"), std::string::npos) << log.str();
}

TEST(ReuseLoop, FreshMappingsAreZero) {
  // Plain anonymous mappings are always cleared, on every kernel.
  MmapPageSource source(64, false);
  RunBound bound;
  bound.iterations = 5;
  std::ostringstream log;
  ReuseResult result = run_reuse_loop(bound, source, false, log);
  EXPECT_EQ(result.pages_scanned, 320u);
  EXPECT_EQ(result.reused_pages, 0u);
  EXPECT_GE(result.usage.minflt, 320);
  EXPECT_EQ(log.str(), "");
}

TEST(ReuseLoop, SecondsBoundStopsLoop) {
  MmapPageSource source(4, false);
  RunBound bound;
  bound.seconds = 0.1;
  bound.sleep_ms = 10;
  std::ostringstream log;
  ReuseResult result = run_reuse_loop(bound, source, false, log);
  EXPECT_GE(result.elapsed_s, 0.1);
  EXPECT_LT(result.elapsed_s, 2.0);
  EXPECT_GE(result.iterations, 1u);
  EXPECT_LE(result.iterations, 11u);
}

TEST(ReuseLoop, MallocSourceYieldsWholePages) {
  MallocPageSource source(10, 4);  // blocks of 4, 4 and 2 pages
  std::vector<char*> pages = source.acquire();
  EXPECT_GE(pages.size(), 7u);
  EXPECT_LE(pages.size(), 10u);
  for (char* page : pages) EXPECT_EQ(reinterpret_cast<std::uintptr_t>(page) % nozero::page_size(), 0u);
  source.release();
}

TEST(ReuseLoop, ReportHasMetricsAndOrigins) {
  RecyclingSource source(2);
  RunBound bound;
  bound.iterations = 2;
  std::ostringstream log;
  ReuseResult result = run_reuse_loop(bound, source, false, log);
  nozero::WorkloadReport report("nzmmap-test");
  add_to_report(report, result);
  nlohmann::json document = nlohmann::json::parse(report.to_json().dump());
  nozero::testing::expect_workload_document(document, "nzmmap-test");
  EXPECT_DOUBLE_EQ(nozero::testing::metric_value(document, "reused_rate"), 0.5);
  EXPECT_EQ(document["metrics"]["reused_rate"]["unit"], "ratio");
  EXPECT_EQ(document["samples"]["reused_pages"], (nlohmann::json{0.0, 2.0}));
  EXPECT_EQ(document["reuse"]["own_marker"], 2);
  EXPECT_EQ(document["reuse"]["other_process_marker"], 0);
  EXPECT_EQ(document["reuse"]["unmarked"], 0);
}

TEST(ReuseLoop, SummaryLine) {
  ReuseResult result;
  result.iterations = 2;
  result.pages_scanned = 8;
  result.reused_pages = 2;
  result.elapsed_s = 0.5;
  std::ostringstream out;
  print_summary(result, out);
  EXPECT_EQ(out.str(), "2 iterations, 8 pages scanned, 2 reused (25.00%) in 0.500 s\n");
}

}  // namespace
}  // namespace workloads

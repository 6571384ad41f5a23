#include "smiffy.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <csignal>
#include <sstream>

#include "nozero/meminfo.h"
#include "page_probe.h"
#include "testing/workload_schema.h"

namespace workloads {
namespace {

TEST(Smiffy, FreshMappingsHaveNoLeaks) {
  SmiffyOptions options;
  options.pages = 32;
  options.bound.iterations = 3;
  options.bound.sleep_ms = 0;
  std::ostringstream log;
  SmiffyResult result = run_smiffy(options, log);
  EXPECT_EQ(result.iterations, 3u);
  EXPECT_EQ(result.pages_scanned, 3u * 2 * 32);  // a plain and a MAP_NOZERO mapping each time
  EXPECT_EQ(result.nozero_pages_scanned, 3u * 32);
  EXPECT_EQ(result.nonzero_pages, 0u);
  EXPECT_EQ(result.nonzero_per_iteration, (std::vector<double>{0, 0, 0}));
  EXPECT_EQ(log.str(), "");
}

TEST(Smiffy, StopFlagEndsRun) {
  volatile std::sig_atomic_t stop = 1;
  SmiffyOptions options;
  options.pages = 4;
  options.bound.stop_flag = &stop;
  std::ostringstream log;
  SmiffyResult result = run_smiffy(options, log);
  EXPECT_EQ(result.iterations, 0u);
  EXPECT_EQ(result.stopped_by, "signal");
}

TEST(Smiffy, MappingChoiceSetsPagesScanned) {
  SmiffyOptions options;
  options.pages = 8;
  options.bound.iterations = 2;
  options.mapping = SmiffyMapping::plain;
  std::ostringstream log;
  EXPECT_EQ(run_smiffy(options, log).pages_scanned, 16u);
}

TEST(Smiffy, ReportsDirtyPage) {
  std::size_t page_size = nozero::page_size();
  std::vector<std::uint64_t> memory(3 * page_size / 8, 0);
  std::vector<char*> pages = whole_pages(memory.data(), memory.size() * 8, page_size);
  ASSERT_GE(pages.size(), 2u);
  reinterpret_cast<std::uint64_t*>(pages[1])[3] = 0x5ec7e7;

  SmiffyOptions options;
  options.words = 4;
  SmiffyResult result;
  std::ostringstream log;
  scan_pages(options, pages, true, 0, result, log);

  EXPECT_EQ(result.pages_scanned, pages.size());
  EXPECT_EQ(result.nonzero_pages, 1u);
  ASSERT_EQ(result.leaks.size(), 1u);
  EXPECT_EQ(result.leaks[0].address, reinterpret_cast<std::uintptr_t>(pages[1]));
  EXPECT_TRUE(result.leaks[0].nozero_mapping);
  ASSERT_EQ(result.leaks[0].words.size(), 1u);
  EXPECT_EQ(result.leaks[0].words[0].offset, 24u);
  EXPECT_EQ(result.leaks[0].words[0].value, 0x5ec7e7u);
  EXPECT_NE(log.str().find("non-zero page at 0x"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("+24=0x00000000005ec7e7"), std::string::npos) << log.str();
}

// Writes what smiffy leaves in a MAP_NOZERO page it scanned: "SMIFFYMK", uid, pid.
void smiffy_marker(char* page, std::uint64_t uid, std::uint64_t pid) {
  auto* words = reinterpret_cast<std::uint64_t*>(page);
  words[1] = 0x534d49464659'4d4bull;
  words[2] = uid;
  words[3] = pid;
}

// In a MAP_NOZERO mapping, a page that holds only a smiffy marker of this user
// (any smiffy process of it) is the same user's page: counted as smiffy's reuse,
// not as a leak. Another user's marker, nzmmap-test's marker, or anything beside
// the marker is a leak.
TEST(Smiffy, OwnUsersMarkerIsReuse) {
  std::size_t page_size = nozero::page_size();
  std::vector<std::uint64_t> memory(6 * page_size / 8, 0);
  std::vector<char*> pages = whole_pages(memory.data(), memory.size() * 8, page_size);
  ASSERT_GE(pages.size(), 5u);
  const auto uid = static_cast<std::uint64_t>(::getuid());
  smiffy_marker(pages[1], uid, 12345);  // an earlier smiffy of this user
  smiffy_marker(pages[2], uid, 12345);
  reinterpret_cast<std::uint64_t*>(pages[2])[100] = 5;
  smiffy_marker(pages[3], uid + 1, 12345);
  write_marker(pages[4], static_cast<std::uint64_t>(::getpid()), 0);  // nzmmap-test's marker

  SmiffyOptions options;
  SmiffyResult result;
  std::ostringstream log;
  scan_pages(options, pages, true, 1, result, log);
  EXPECT_EQ(result.nozero_pages_scanned, pages.size());
  EXPECT_EQ(result.own_reused_pages, 1u);
  EXPECT_EQ(result.nonzero_pages, 3u);
  ASSERT_EQ(result.leaks.size(), 3u);
  EXPECT_EQ(result.leaks[0].address, reinterpret_cast<std::uintptr_t>(pages[2]));
  EXPECT_EQ(result.leaks[1].address, reinterpret_cast<std::uintptr_t>(pages[3]));
  EXPECT_EQ(result.leaks[2].address, reinterpret_cast<std::uintptr_t>(pages[4]));

  // Every page now contains this process's marker, so the next scan counts it as
  // reuse. The page with a stray word beside the marker is still a leak.
  SmiffyResult again;
  scan_pages(options, pages, true, 2, again, log);
  EXPECT_EQ(again.own_reused_pages, pages.size() - 1);
  EXPECT_EQ(again.nonzero_pages, 1u);
}

TEST(Smiffy, OwnMarkerInPlainMappingIsALeak) {
  std::size_t page_size = nozero::page_size();
  std::vector<std::uint64_t> memory(2 * page_size / 8, 0);
  std::vector<char*> pages = whole_pages(memory.data(), memory.size() * 8, page_size);
  ASSERT_GE(pages.size(), 1u);
  smiffy_marker(pages[0], static_cast<std::uint64_t>(::getuid()), 1);

  SmiffyOptions options;
  SmiffyResult result;
  std::ostringstream log;
  scan_pages(options, pages, false, 1, result, log);
  EXPECT_EQ(result.nozero_pages_scanned, 0u);
  EXPECT_EQ(result.own_reused_pages, 0u);
  EXPECT_EQ(result.nonzero_pages, 1u);
}

TEST(Smiffy, MaxReportsLimitsListNotCount) {
  std::size_t page_size = nozero::page_size();
  std::vector<std::uint64_t> memory(5 * page_size / 8, 0);
  std::vector<char*> pages = whole_pages(memory.data(), memory.size() * 8, page_size);
  for (char* page : pages) reinterpret_cast<std::uint64_t*>(page)[1] = 1;

  SmiffyOptions options;
  options.max_reports = 2;
  SmiffyResult result;
  std::ostringstream log;
  scan_pages(options, pages, false, 0, result, log);
  EXPECT_EQ(result.nonzero_pages, pages.size());
  EXPECT_EQ(result.leaks.size(), 2u);

  nozero::WorkloadReport report("smiffy");
  add_to_report(report, result, 1001);
  nlohmann::json document = nlohmann::json::parse(report.to_json().dump());
  nozero::testing::expect_workload_document(document, "smiffy");
  EXPECT_EQ(document["leaks"]["uid"], 1001);
  EXPECT_EQ(document["leaks"]["nonzero_pages"], pages.size());
  EXPECT_EQ(document["leaks"]["reported"].size(), 2u);
  EXPECT_EQ(document["leaks"]["not_reported"], pages.size() - 2);
  EXPECT_EQ(document["leaks"]["nozero_pages_scanned"], 0);
  EXPECT_EQ(document["leaks"]["own_reused_pages"], 0);
  EXPECT_EQ(document["leaks"]["reported"][0]["mapping"], "plain");
  EXPECT_EQ(document["leaks"]["reported"][0]["nonzero_words"][0]["offset"], 8);
  EXPECT_EQ(document["leaks"]["reported"][0]["nonzero_words"][0]["value"], "0x0000000000000001");
}

}  // namespace
}  // namespace workloads

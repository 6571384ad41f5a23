#include "benchmark.h"

#include <gtest/gtest.h>

#include <numeric>
#include <sstream>

namespace ebizzy {
namespace {

Options short_run() {
  Options options;
  options.threads = 2;
  options.chunks = 4;
  options.chunk_size = 64 * 1024;
  options.seconds = 0.3;
  options.sample_interval_s = 0.1;
  return options;
}

void expect_consistent(const RunResult& result, const Options& options) {
  EXPECT_FALSE(result.miss.has_value());
  EXPECT_GT(result.records, 0u);
  ASSERT_EQ(result.thread_records.size(), options.threads);
  EXPECT_EQ(std::accumulate(result.thread_records.begin(), result.thread_records.end(), std::uint64_t{0}),
            result.records);
  for (std::uint64_t records : result.thread_records) EXPECT_GT(records, 0u);
  EXPECT_GE(result.elapsed_s, options.seconds);
  EXPECT_LT(result.elapsed_s, options.seconds + 5);
  EXPECT_GE(result.interval_rates.size(), 2u);
  EXPECT_LE(result.interval_rates.size(), 4u);
  EXPECT_GT(result.records_per_s(), 0);
}

TEST(Benchmark, MallocRunFindsEveryKey) {
  Options options = short_run();
  std::ostringstream log;
  expect_consistent(run(options, log), options);
}

TEST(Benchmark, MmapRunFaultsPerCopy) {
  Options options = short_run();
  options.always_mmap = true;
  std::ostringstream log;
  RunResult result = run(options, log);
  expect_consistent(result, options);
  // Each copy buffer is a new mapping of 16 pages that memcpy faults in.
  EXPECT_GE(result.usage.minflt, static_cast<std::int64_t>(result.records));
}

TEST(Benchmark, NozeroRunFindsEveryKey) {
  Options options = short_run();
  options.nozero = true;
  options.random_size = true;
  options.holes = true;
  options.alternate_permissions = true;
  std::ostringstream log;
  RunResult result = run(options, log);
  expect_consistent(result, options);
  EXPECT_EQ(result.protect_failures, 0u);
}

TEST(Benchmark, VariantsFindEveryKey) {
  for (auto variant : {&Options::linear_search, &Options::byte_copy, &Options::fixed_key, &Options::touch_pages}) {
    Options options = short_run();
    options.chunk_size = 4096;
    options.*variant = true;
    std::ostringstream log;
    expect_consistent(run(options, log), options);
  }
}

TEST(Benchmark, FixedKeyCopiesOneRecordWithRandomSize) {
  // ebizzy 0.3's generator returns 0, so -R always copies (0 + 1) records.
  Options options = short_run();
  options.fixed_key = true;
  options.random_size = true;
  options.verbose = 3;
  options.seconds = 0.05;
  std::ostringstream log;
  RunResult result = run(options, log);
  EXPECT_FALSE(result.miss.has_value());
  EXPECT_NE(log.str().find("Search key 0, copy size 8\n"), std::string::npos);
  EXPECT_EQ(log.str().find("copy size 16"), std::string::npos);
}

TEST(Benchmark, VerboseLogsThreads) {
  Options options = short_run();
  options.verbose = 2;
  std::ostringstream log;
  run(options, log);
  EXPECT_NE(log.str().find("chunk_size 65536"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("Thread 1 started"), std::string::npos) << log.str();
  EXPECT_NE(log.str().find("Thread 0 finished"), std::string::npos) << log.str();
}

}  // namespace
}  // namespace ebizzy

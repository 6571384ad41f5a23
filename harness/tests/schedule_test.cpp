// The run order: seeded, interleaved by rounds, cut into boots with warmups.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>

#include "run/schedule.h"
#include "run/suite.h"

namespace nozero::run {
namespace {

Suite make_suite(const std::string& extra_suite_keys, unsigned workloads = 3) {
  std::string text = "[suite]\nrepetitions = 4\nwarmups = 1\n" + extra_suite_keys + "\n";
  for (unsigned i = 0; i < workloads; ++i) {
    text += "[[workload]]\nname = \"w" + std::to_string(i) + "\"\nprogram = \"nzmmap-test\"\n";
  }
  return parse_suite(text, "test.toml");
}

std::vector<std::tuple<std::string, Arm, unsigned, bool>> sequence(const Schedule& schedule) {
  std::vector<std::tuple<std::string, Arm, unsigned, bool>> result;
  for (const PlannedRun& run : schedule.runs) result.emplace_back(run.workload, run.arm, run.repetition, run.warmup);
  return result;
}

TEST(Schedule, SameSeedSameOrder) {
  Suite suite = make_suite("");
  EXPECT_EQ(sequence(make_schedule(suite, 7)), sequence(make_schedule(suite, 7)));
  EXPECT_EQ(make_schedule(suite, 7).seed, 7u);
}

TEST(Schedule, DifferentSeedsDifferentOrders) {
  Suite suite = make_suite("");
  std::set<std::vector<std::tuple<std::string, Arm, unsigned, bool>>> orders;
  for (std::uint64_t seed = 0; seed < 10; ++seed) orders.insert(sequence(make_schedule(suite, seed)));
  EXPECT_GT(orders.size(), 5u);
}

TEST(Schedule, OrderDoesNotDependOnTheStandardLibrary) {
  // uniform_below reads only mt19937_64's output, which the C++ standard fixes:
  // the 10000th output of a default-seeded mt19937_64 is 9981545732273789042.
  std::mt19937_64 check;
  check.discard(9999);
  ASSERT_EQ(check(), 9981545732273789042ull);
  // So these values, recorded once, hold with every standard library.
  std::mt19937_64 generator(1);
  std::vector<int> items = {0, 1, 2, 3, 4, 5, 6, 7};
  seeded_shuffle(items, generator);
  EXPECT_EQ(items, (std::vector<int>{4, 6, 3, 5, 1, 7, 2, 0}));
  std::mt19937_64 draws(99);
  std::vector<std::uint64_t> values;
  for (int i = 0; i < 5; ++i) values.push_back(uniform_below(draws, 10));
  EXPECT_EQ(values, (std::vector<std::uint64_t>{1, 9, 5, 0, 9}));
}

TEST(Schedule, UniformBelowStaysInRange) {
  std::mt19937_64 generator(3);
  std::map<std::uint64_t, int> counts;
  for (int i = 0; i < 3000; ++i) {
    std::uint64_t value = uniform_below(generator, 3);
    ASSERT_LT(value, 3u);
    ++counts[value];
  }
  for (const auto& [value, count] : counts) EXPECT_GT(count, 850) << value;
}

TEST(Schedule, EveryMeasuredRunExactlyOnce) {
  Suite suite = make_suite("");
  Schedule schedule = make_schedule(suite, 11);
  std::multiset<std::tuple<std::string, Arm, unsigned>> measured;
  for (const PlannedRun& run : schedule.runs) {
    if (!run.warmup) measured.emplace(run.workload, run.arm, run.repetition);
  }
  EXPECT_EQ(measured.size(), 3u * 2u * 4u);
  for (const auto& key : measured) EXPECT_EQ(measured.count(key), 1u);
  for (std::size_t i = 0; i < schedule.runs.size(); ++i) EXPECT_EQ(schedule.runs[i].index, i);
}

TEST(Schedule, RoundsInterleaveTheArms) {
  Suite suite = make_suite("");
  Schedule schedule = make_schedule(suite, 5);
  // Repetition r of every pair runs before any repetition r + 1.
  unsigned round = 0;
  for (const PlannedRun& run : schedule.runs) {
    if (run.warmup) continue;
    EXPECT_GE(run.repetition, round);
    round = run.repetition;
  }
  // Across seeds, each arm of w0 runs first in some rounds and second in others.
  int nozero_first = 0;
  int baseline_first = 0;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    std::map<unsigned, Arm> first;
    for (const PlannedRun& run : make_schedule(suite, seed).runs) {
      if (!run.warmup && run.workload == "w0") first.try_emplace(run.repetition, run.arm);
    }
    for (const auto& [repetition, arm] : first) (arm == Arm::nozero ? nozero_first : baseline_first)++;
  }
  EXPECT_GT(nozero_first, 10);
  EXPECT_GT(baseline_first, 10);
}

TEST(Schedule, OneBootByDefaultWithWarmupsPerWorkload) {
  Suite suite = make_suite("");
  Schedule schedule = make_schedule(suite, 2);
  ASSERT_EQ(schedule.boots.size(), 1u);
  EXPECT_EQ(schedule.runs.size(), 24u + 3u);
  // Each workload's warmup comes right before its first measured run, in its arm.
  std::set<std::string> seen;
  for (std::size_t i = 0; i < schedule.runs.size(); ++i) {
    const PlannedRun& run = schedule.runs[i];
    if (run.warmup) {
      ASSERT_LT(i + 1, schedule.runs.size());
      const PlannedRun& next = schedule.runs[i + 1];
      EXPECT_FALSE(next.warmup);
      EXPECT_EQ(next.workload, run.workload);
      EXPECT_EQ(next.arm, run.arm);
      EXPECT_TRUE(seen.insert(run.workload).second);
    } else {
      EXPECT_TRUE(seen.count(run.workload)) << "measured before its warmup: " << i;
    }
  }
}

TEST(Schedule, RunsPerBootCutsBootsAndRepeatsWarmups) {
  Suite suite = make_suite("runs_per_boot = 1");
  Schedule schedule = make_schedule(suite, 2);
  ASSERT_EQ(schedule.boots.size(), 24u);
  for (const Boot& boot : schedule.boots) {
    ASSERT_EQ(boot.runs.size(), 2u);
    EXPECT_TRUE(schedule.runs[boot.runs[0]].warmup);
    EXPECT_FALSE(schedule.runs[boot.runs[1]].warmup);
    for (std::size_t index : boot.runs) EXPECT_EQ(schedule.runs[index].boot, boot.index);
  }
  Schedule blocks = make_schedule(make_suite("runs_per_boot = 5"), 2);
  EXPECT_EQ(blocks.boots.size(), 5u);  // 24 measured runs, 5 per boot
}

TEST(Schedule, UnpatchedArmBootsItsOwnKernel) {
  Suite suite = make_suite("arms = [\"baseline\", \"nozero\", \"unpatched\"]", 2);
  Schedule schedule = make_schedule(suite, 9);
  ASSERT_GE(schedule.boots.size(), 2u);
  std::size_t unpatched_boots = 0;
  for (const Boot& boot : schedule.boots) {
    if (boot.kernel == KernelKind::unpatched) ++unpatched_boots;
    for (std::size_t index : boot.runs) {
      EXPECT_EQ(kernel_for(schedule.runs[index].arm), boot.kernel);
    }
  }
  EXPECT_GE(unpatched_boots, 1u);
  // Consecutive boots of one kernel are merged, so kernels alternate.
  for (std::size_t i = 1; i < schedule.boots.size(); ++i) {
    EXPECT_NE(schedule.boots[i].kernel, schedule.boots[i - 1].kernel);
  }
}

TEST(Schedule, WorkloadRepetitionsOverride) {
  Suite suite = parse_suite(R"(
[suite]
repetitions = 3
warmups = 0
[[workload]]
name = "long"
program = "make"
repetitions = 1
[[workload]]
name = "short"
program = "nzmmap-test"
)",
                            "test.toml");
  Schedule schedule = make_schedule(suite, 1);
  std::map<std::string, int> counts;
  for (const PlannedRun& run : schedule.runs) counts[run.workload]++;
  EXPECT_EQ(counts["long"], 2);  // one repetition per arm, no warmup
  EXPECT_EQ(counts["short"], 6);
}

}  // namespace
}  // namespace nozero::run

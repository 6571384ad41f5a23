#include "generator.h"

#include <gtest/gtest.h>

#include <set>

namespace ebizzy {
namespace {

TEST(Generator, OriginalAlwaysReturnsZero) {
  RecordGenerator generator = RecordGenerator::original();
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(generator.below(65536), 0u) << "call " << i;
}

TEST(Generator, SeededStaysBelowLimit) {
  RecordGenerator generator = RecordGenerator::seeded(1, 0);
  for (int i = 0; i < 10000; ++i) ASSERT_LT(generator.below(10), 10u);
  EXPECT_EQ(generator.below(1), 0u);
}

TEST(Generator, SeededCoversRange) {
  RecordGenerator generator = RecordGenerator::seeded(7, 3);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(generator.below(10));
  EXPECT_EQ(seen.size(), 10u);
}

TEST(Generator, SameSeedSameSequence) {
  RecordGenerator first = RecordGenerator::seeded(42, 1);
  RecordGenerator second = RecordGenerator::seeded(42, 1);
  for (int i = 0; i < 100; ++i) ASSERT_EQ(first.below(1u << 20), second.below(1u << 20));
}

TEST(Generator, ThreadsDrawDifferentSequences) {
  RecordGenerator first = RecordGenerator::seeded(42, 0);
  RecordGenerator second = RecordGenerator::seeded(42, 1);
  int equal = 0;
  for (int i = 0; i < 100; ++i) equal += first.below(1u << 20) == second.below(1u << 20);
  EXPECT_LT(equal, 5);
}

}  // namespace
}  // namespace ebizzy

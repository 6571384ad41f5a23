#include "page_probe.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace workloads {
namespace {

constexpr std::size_t kPageSize = 4096;

// A zeroed, page-aligned buffer of `pages` pages.
struct AlignedPages {
  explicit AlignedPages(std::size_t pages) : words(pages * kPageSize / 8 + kPageSize / 8, 0) {
    auto address = reinterpret_cast<std::uintptr_t>(words.data());
    base = reinterpret_cast<char*>((address + kPageSize - 1) / kPageSize * kPageSize);
  }
  std::uint64_t* page_words(std::size_t page) { return reinterpret_cast<std::uint64_t*>(base + page * kPageSize); }
  std::vector<std::uint64_t> words;
  char* base;
};

TEST(PageProbe, ZeroPageIsNotReused) {
  AlignedPages memory(1);
  EXPECT_FALSE(fault_and_check_reused(memory.base, kPageSize));
  EXPECT_EQ(memory.page_words(0)[0], 1u) << "word 0 must be written to fault the page in";
}

TEST(PageProbe, WordZeroAloneIsNotReuse) {
  AlignedPages memory(1);
  memory.page_words(0)[0] = 0xdead;
  EXPECT_FALSE(fault_and_check_reused(memory.base, kPageSize));
}

TEST(PageProbe, LastWordCountsAsReuse) {
  AlignedPages memory(1);
  memory.page_words(0)[kPageSize / 8 - 1] = 7;
  EXPECT_TRUE(fault_and_check_reused(memory.base, kPageSize));
}

TEST(PageProbe, MarkerClassifiesOrigin) {
  AlignedPages memory(1);
  EXPECT_EQ(classify_page(memory.base, 100), PageOrigin::unmarked);
  write_marker(memory.base, 100, 3);
  EXPECT_EQ(memory.page_words(0)[1], kMarkerMagic);
  EXPECT_EQ(memory.page_words(0)[2], 100u);
  EXPECT_EQ(memory.page_words(0)[3], 3u);
  EXPECT_EQ(classify_page(memory.base, 100), PageOrigin::own_marker);
  EXPECT_EQ(classify_page(memory.base, 101), PageOrigin::other_process_marker);
  EXPECT_TRUE(fault_and_check_reused(memory.base, kPageSize));
}

TEST(PageProbe, FirstNonzeroWordsSkipWordZero) {
  AlignedPages memory(1);
  std::uint64_t* words = memory.page_words(0);
  words[0] = 1;
  words[5] = 0x55;
  words[9] = 0x99;
  words[100] = 0x100;
  std::vector<NonzeroWord> found = first_nonzero_words(memory.base, kPageSize, 2);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].offset, 40u);
  EXPECT_EQ(found[0].value, 0x55u);
  EXPECT_EQ(found[1].offset, 72u);
  EXPECT_EQ(found[1].value, 0x99u);
  EXPECT_EQ(first_nonzero_words(memory.base, kPageSize, 10).size(), 3u);
}

TEST(PageProbe, WholePagesOfUnalignedBlock) {
  auto* base = reinterpret_cast<char*>(0x100000);
  std::vector<char*> pages = whole_pages(base + 16, 4 * kPageSize, kPageSize);
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[0], base + kPageSize);
  EXPECT_EQ(pages[2], base + 3 * kPageSize);
  EXPECT_EQ(whole_pages(base, 4 * kPageSize, kPageSize).size(), 4u);
  EXPECT_TRUE(whole_pages(base + 1, kPageSize, kPageSize).empty());
}

}  // namespace
}  // namespace workloads

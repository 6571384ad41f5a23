#include "nozero/meminfo.h"

#include <gtest/gtest.h>

namespace nozero {
namespace {

TEST(MemInfo, ParsesMemAvailableInKib) {
  std::string_view meminfo =
      "MemTotal:       24683792 kB\nMemFree:        23905740 kB\nMemAvailable:   24267620 kB\n";
  EXPECT_EQ(parse_mem_available(meminfo), std::optional<std::uint64_t>(24267620ull * 1024));
}

TEST(MemInfo, MissingFieldIsNullopt) {
  EXPECT_EQ(parse_mem_available("MemTotal: 1 kB\nMemFree: 1 kB\n"), std::nullopt);
  EXPECT_EQ(parse_mem_available("MemAvailable: kB\n"), std::nullopt);
}

TEST(MemInfo, ReadsThisMachine) {
  auto available = mem_available_bytes();
  ASSERT_TRUE(available.has_value());
  EXPECT_GT(*available, 0u);
  EXPECT_EQ(mem_available_bytes("/nonexistent/meminfo"), std::nullopt);
}

TEST(MemInfo, FormatsBinaryUnits) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(3ull << 30), "3.0 GiB");
}

TEST(MemInfo, PageSizeIsPowerOfTwo) {
  std::size_t size = page_size();
  EXPECT_GE(size, 4096u);
  EXPECT_EQ(size & (size - 1), 0u);
}

}  // namespace
}  // namespace nozero

#include "buffers.h"

#include <gtest/gtest.h>

#include <cstring>
#include <numeric>
#include <vector>

#include "nozero/meminfo.h"

namespace ebizzy {
namespace {

TEST(Buffers, EachAllocationReturnsUsableMemory) {
  for (Allocation allocation : {Allocation::malloc, Allocation::mmap, Allocation::mmap_nozero}) {
    BufferAllocator allocator(allocation);
    constexpr std::size_t kSize = 3 * 4096 + 100;
    auto* buffer = static_cast<unsigned char*>(allocator.allocate(kSize));
    ASSERT_NE(buffer, nullptr) << to_string(allocation);
    std::memset(buffer, 0xab, kSize);
    EXPECT_EQ(buffer[kSize - 1], 0xab);
    allocator.release(buffer, kSize);
  }
}

TEST(Buffers, WholePagesWithin) {
  auto* base = reinterpret_cast<char*>(0x10000);
  PageRange range = whole_pages_within(base + 16, 3 * 4096, 4096);
  EXPECT_EQ(range.begin, base + 4096);
  EXPECT_EQ(range.size, 2u * 4096);
  range = whole_pages_within(base, 2 * 4096, 4096);
  EXPECT_EQ(range.begin, base);
  EXPECT_EQ(range.size, 2u * 4096);
  EXPECT_EQ(whole_pages_within(base + 16, 4096, 4096).size, 0u);
}

TEST(Buffers, ProtectChunkRoundTrip) {
  BufferAllocator allocator(Allocation::mmap);
  std::size_t size = 4 * nozero::page_size();
  void* chunk = allocator.allocate(size);
  EXPECT_TRUE(protect_chunk(chunk, size, true));
  EXPECT_TRUE(protect_chunk(chunk, size, false));
  static_cast<char*>(chunk)[0] = 1;  // writable again
  allocator.release(chunk, size);
}

TEST(Buffers, TouchPagesWritesFirstByteOfEachPage) {
  std::vector<char> buffer(3 * 4096 + 10, 0);
  touch_pages(buffer.data(), buffer.size(), 4096);
  for (std::size_t offset : {0u, 4096u, 8192u, 12288u}) EXPECT_EQ(buffer[offset], static_cast<char>(0xff)) << offset;
  EXPECT_EQ(buffer[1], 0);
  EXPECT_EQ(buffer[4097], 0);
}

TEST(Buffers, CopyBytesCopiesEverything) {
  std::vector<unsigned char> source(1000);
  std::iota(source.begin(), source.end(), 0);
  std::vector<unsigned char> destination(1000, 0);
  copy_bytes(destination.data(), source.data(), source.size());
  EXPECT_EQ(destination, source);
}

TEST(Buffers, SearchesFindEveryKey) {
  std::vector<Record> records(1000);
  std::iota(records.begin(), records.end(), 0);
  for (Record key = 0; key < records.size(); ++key) {
    ASSERT_EQ(binary_search(key, records.data(), records.size()), &records[key]);
    ASSERT_EQ(linear_search(key, records.data(), records.size()), &records[key]);
  }
  EXPECT_EQ(binary_search(1000, records.data(), records.size()), nullptr);
  EXPECT_EQ(linear_search(1000, records.data(), records.size()), nullptr);
}

TEST(Buffers, SearchesMissCorruptedKey) {
  std::vector<Record> records(64);
  std::iota(records.begin(), records.end(), 0);
  records[10] = 0;  // as if the page were not copied
  EXPECT_EQ(linear_search(10, records.data(), records.size()), nullptr);
  EXPECT_EQ(binary_search(10, records.data(), records.size()), nullptr);
}

}  // namespace
}  // namespace ebizzy

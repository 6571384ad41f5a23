#include "nozero/rusage.h"

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstring>

#include "nozero/meminfo.h"

namespace nozero {
namespace {

TEST(Rusage, CountsMinorFaultsOfTouchedPages) {
  constexpr std::size_t kPages = 256;
  std::size_t length = kPages * page_size();
  ResourceUsage before = capture_rusage(RUSAGE_SELF);
  void* memory = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(memory, MAP_FAILED);
  // A transparent huge page could back the whole range with one fault.
  ::madvise(memory, length, MADV_NOHUGEPAGE);
  for (std::size_t offset = 0; offset < length; offset += page_size()) static_cast<char*>(memory)[offset] = 1;
  ResourceUsage after = capture_rusage(RUSAGE_SELF);
  ::munmap(memory, length);

  ResourceUsage delta = usage_between(before, after);
  EXPECT_GE(delta.minflt, static_cast<std::int64_t>(kPages));
  EXPECT_EQ(delta.maxrss_kib, after.maxrss_kib);
  EXPECT_GE(delta.utime_s + delta.stime_s, 0.0);
}

TEST(Rusage, JsonHasEveryField) {
  ResourceUsage usage;
  usage.utime_s = 1.5;
  usage.minflt = 7;
  nlohmann::ordered_json json = to_json(usage);
  EXPECT_DOUBLE_EQ(json["utime_s"].get<double>(), 1.5);
  EXPECT_EQ(json["minflt"].get<std::int64_t>(), 7);
  for (const char* key : {"stime_s", "maxrss_kib", "majflt", "nvcsw", "nivcsw"}) {
    EXPECT_TRUE(json.contains(key)) << key;
  }
}

}  // namespace
}  // namespace nozero

// CounterSet on the running kernel. The mode under test follows from an independent
// perf_event_open(2) probe: on a machine without a PMU (the project's build machines)
// this covers the software fallback for real, on one with a PMU the hardware path.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <string>

#include "nozero/counters.h"

namespace nozero::counters {
namespace {

constexpr std::size_t kPages = 256;
constexpr std::size_t kPageSize = 4096;

// Returns 0 when user-space cycles can be counted here, or the errno.
int probe_cycles() {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_HARDWARE;
  attr.config = PERF_COUNT_HW_CPU_CYCLES;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  const long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) {
    return errno;
  }
  close(static_cast<int>(fd));
  return 0;
}

std::map<std::string, double> by_name(const std::vector<Reading>& readings) {
  std::map<std::string, double> values;
  for (const Reading& reading : readings) {
    values[reading.name] = reading.value;
  }
  return values;
}

// Faults in kPages fresh anonymous pages.
void fault_pages() {
  void* raw = mmap(nullptr, kPages * kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(raw, MAP_FAILED) << std::strerror(errno);
  ASSERT_EQ(madvise(raw, kPages * kPageSize, MADV_NOHUGEPAGE), 0) << std::strerror(errno);
  for (std::size_t page = 0; page < kPages; ++page) {
    static_cast<volatile char*>(raw)[page * kPageSize] = 1;
  }
  munmap(raw, kPages * kPageSize);
}

TEST(PerfEventSource, ModeMatchesProbe) {
  const int probe_error = probe_cycles();
  const CounterSet set = CounterSet::open(make_perf_event_source());

  if (probe_error != 0) {
    EXPECT_EQ(set.mode(), Mode::software);
    EXPECT_EQ(set.mode_label(), "software: no PMU");
    EXPECT_NE(set.fallback_reason().find(strerrorname_np(probe_error)), std::string::npos)
        << set.fallback_reason();
  } else {
    EXPECT_EQ(set.mode(), Mode::hardware);
    EXPECT_EQ(set.fallback_reason(), "");
    EXPECT_EQ(set.names().front(), "cycles_user");
  }
}

TEST(PerfEventSource, CountsPageFaults) {
  CounterSet set = CounterSet::open(make_perf_event_source());
  set.start();
  fault_pages();
  set.stop();

  const auto values = by_name(set.read());
  ASSERT_TRUE(values.contains("page_faults"));
  EXPECT_GE(values.at("page_faults"), static_cast<double>(kPages));
  // A few more faults come from the stack and the code of the loop, not hundreds.
  EXPECT_LT(values.at("page_faults"), static_cast<double>(kPages) + 64);
  ASSERT_TRUE(values.contains("task_clock_ns"));
  EXPECT_GT(values.at("task_clock_ns"), 0.0);
  if (set.mode() == Mode::hardware) {
    EXPECT_GT(values.at("cycles_user"), 0.0);
  }
}

TEST(PerfEventSource, StoppedCountersHoldStill) {
  CounterSet set = CounterSet::open(make_perf_event_source());
  set.start();
  fault_pages();
  set.stop();
  const double before = by_name(set.read()).at("page_faults");

  fault_pages();
  EXPECT_EQ(by_name(set.read()).at("page_faults"), before);
}

TEST(PerfEventSource, StartResetsCounts) {
  CounterSet set = CounterSet::open(make_perf_event_source());
  set.start();
  fault_pages();
  set.stop();
  set.start();
  set.stop();

  EXPECT_LT(by_name(set.read()).at("page_faults"), static_cast<double>(kPages));
}

TEST(EncodePfmEvent, CyclesUserAndKernel) {
  const perf_event_attr user = encode_pfm_event("perf::PERF_COUNT_HW_CPU_CYCLES", Privilege::user);
  EXPECT_EQ(user.type, static_cast<unsigned>(PERF_TYPE_HARDWARE));
  EXPECT_EQ(user.config, static_cast<unsigned long long>(PERF_COUNT_HW_CPU_CYCLES));
  EXPECT_EQ(user.exclude_kernel, 1u);
  EXPECT_EQ(user.exclude_user, 0u);

  const perf_event_attr kernel = encode_pfm_event("perf::PERF_COUNT_HW_CPU_CYCLES", Privilege::kernel);
  EXPECT_EQ(kernel.exclude_kernel, 0u);
  EXPECT_EQ(kernel.exclude_user, 1u);
}

}  // namespace
}  // namespace nozero::counters

// CounterSet against a fake event source: the PMU path, the no-PMU fallback and the
// partial cases in between, without needing hardware counters on the test machine.
#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>

#include "fake_event_source.h"
#include "nozero/counters.h"

namespace nozero::counters {
namespace {

using testing::FakeEventSource;
using testing::FakeState;
using testing::is_hardware;

const std::vector<std::string> kSoftwareNames = {"page_faults", "task_clock_ns", "context_switches"};

CounterSet open_with(FakeState& state) { return CounterSet::open(std::make_unique<FakeEventSource>(state)); }

TEST(CounterSet, PmuPresentOpensHardwareEvents) {
  FakeState state;
  const CounterSet set = open_with(state);

  EXPECT_EQ(set.mode(), Mode::hardware);
  EXPECT_EQ(set.mode_label(), "hardware (libpfm4)");
  EXPECT_EQ(set.fallback_reason(), "");
  EXPECT_TRUE(set.unavailable().empty());
  const std::vector<std::string> expected = {"cycles_user",       "cycles_kernel", "instructions_user",
                                             "instructions_kernel", "llc_misses_user", "llc_misses_kernel",
                                             "page_faults",       "task_clock_ns", "context_switches"};
  EXPECT_EQ(set.names(), expected);
}

TEST(CounterSet, HardwareEventsSplitUserAndKernel) {
  FakeState state;
  const CounterSet set = open_with(state);
  ASSERT_EQ(state.opened.size(), 9u);

  const perf_event_attr& cycles_user = state.opened[0];
  EXPECT_EQ(cycles_user.type, static_cast<unsigned>(PERF_TYPE_HARDWARE));
  EXPECT_EQ(cycles_user.config, static_cast<unsigned long long>(PERF_COUNT_HW_CPU_CYCLES));
  EXPECT_EQ(cycles_user.exclude_user, 0u);
  EXPECT_EQ(cycles_user.exclude_kernel, 1u);

  const perf_event_attr& cycles_kernel = state.opened[1];
  EXPECT_EQ(cycles_kernel.config, static_cast<unsigned long long>(PERF_COUNT_HW_CPU_CYCLES));
  EXPECT_EQ(cycles_kernel.exclude_user, 1u);
  EXPECT_EQ(cycles_kernel.exclude_kernel, 0u);

  EXPECT_EQ(state.opened[2].config, static_cast<unsigned long long>(PERF_COUNT_HW_INSTRUCTIONS));
  EXPECT_EQ(state.opened[4].config, static_cast<unsigned long long>(PERF_COUNT_HW_CACHE_MISSES));
  EXPECT_EQ(state.opened[5].exclude_user, 1u);

  for (std::size_t i = 6; i < 9; ++i) {
    EXPECT_EQ(state.opened[i].type, static_cast<unsigned>(PERF_TYPE_SOFTWARE)) << "event " << i;
    EXPECT_EQ(state.opened[i].exclude_kernel, 0u) << "event " << i;
  }
  EXPECT_EQ(state.opened[6].config, static_cast<unsigned long long>(PERF_COUNT_SW_PAGE_FAULTS));
  EXPECT_EQ(state.opened[7].config, static_cast<unsigned long long>(PERF_COUNT_SW_TASK_CLOCK));
  EXPECT_EQ(state.opened[8].config, static_cast<unsigned long long>(PERF_COUNT_SW_CONTEXT_SWITCHES));
}

TEST(CounterSet, NoPmuFallsBackToSoftware) {
  FakeState state;
  state.rule = [](const perf_event_attr& attr) { return is_hardware(attr) ? ENOENT : 0; };
  const CounterSet set = open_with(state);

  EXPECT_EQ(set.mode(), Mode::software);
  EXPECT_EQ(set.mode_label(), "software: no PMU");
  EXPECT_EQ(set.fallback_reason(),
            "perf_event_open(perf::PERF_COUNT_HW_CPU_CYCLES:u) failed: ENOENT (No such file or directory)");
  EXPECT_EQ(set.names(), kSoftwareNames);
  EXPECT_TRUE(set.unavailable().empty());
}

TEST(CounterSet, KernelCountingForbidden) {
  FakeState state;
  // What perf_event_paranoid=2 does to an unprivileged process.
  state.rule = [](const perf_event_attr& attr) { return is_hardware(attr) && attr.exclude_user ? EACCES : 0; };
  const CounterSet set = open_with(state);

  EXPECT_EQ(set.mode(), Mode::hardware);
  const std::vector<std::string> expected = {"cycles_user", "instructions_user", "llc_misses_user",
                                             "page_faults", "task_clock_ns",     "context_switches"};
  EXPECT_EQ(set.names(), expected);
  ASSERT_EQ(set.unavailable().size(), 3u);
  EXPECT_EQ(set.unavailable()[0].name, "cycles_kernel");
  EXPECT_EQ(set.unavailable()[0].reason,
            "perf_event_open(perf::PERF_COUNT_HW_CPU_CYCLES:k) failed: EACCES (Permission denied)");
  EXPECT_EQ(set.unavailable()[2].name, "llc_misses_kernel");
}

TEST(CounterSet, MissingEventAfterCyclesIsListed) {
  FakeState state;
  state.rule = [](const perf_event_attr& attr) {
    return attr.type == PERF_TYPE_HARDWARE && attr.config == PERF_COUNT_HW_CACHE_MISSES ? ENOENT : 0;
  };
  const CounterSet set = open_with(state);

  EXPECT_EQ(set.mode(), Mode::hardware);
  ASSERT_EQ(set.unavailable().size(), 2u);
  EXPECT_EQ(set.unavailable()[0].name, "llc_misses_user");
  EXPECT_EQ(set.unavailable()[1].name, "llc_misses_kernel");
  EXPECT_EQ(set.names().size(), 7u);
}

TEST(CounterSet, UnknownEventNameFallsBack) {
  FakeState state;
  const CounterSet set =
      CounterSet::open(std::make_unique<FakeEventSource>(state), {{"bogus", "perf::NO_SUCH_EVENT_NAME"}});

  EXPECT_EQ(set.mode(), Mode::software);
  EXPECT_NE(set.fallback_reason().find("cannot encode event 'perf::NO_SUCH_EVENT_NAME'"), std::string::npos)
      << set.fallback_reason();
  EXPECT_EQ(set.names(), kSoftwareNames);
}

TEST(CounterSet, UnknownEventAfterCyclesIsListed) {
  FakeState state;
  const CounterSet set = CounterSet::open(std::make_unique<FakeEventSource>(state),
                                          {{"cycles", "perf::PERF_COUNT_HW_CPU_CYCLES"},
                                           {"bogus", "perf::NO_SUCH_EVENT_NAME"}});

  EXPECT_EQ(set.mode(), Mode::hardware);
  ASSERT_EQ(set.unavailable().size(), 2u);
  EXPECT_EQ(set.unavailable()[0].name, "bogus_user");
  EXPECT_NE(set.unavailable()[0].reason.find("libpfm4"), std::string::npos);
}

TEST(CounterSet, EmptyHardwareListIsSoftware) {
  FakeState state;
  const CounterSet set = CounterSet::open(std::make_unique<FakeEventSource>(state), {});

  EXPECT_EQ(set.mode(), Mode::software);
  EXPECT_EQ(set.fallback_reason(), "no hardware events requested");
}

TEST(CounterSet, RejectedSoftwareEventIsListed) {
  FakeState state;
  state.rule = [](const perf_event_attr& attr) {
    if (is_hardware(attr)) {
      return ENOENT;
    }
    return attr.config == PERF_COUNT_SW_CONTEXT_SWITCHES ? EPERM : 0;
  };
  const CounterSet set = open_with(state);

  const std::vector<std::string> expected = {"page_faults", "task_clock_ns"};
  EXPECT_EQ(set.names(), expected);
  ASSERT_EQ(set.unavailable().size(), 1u);
  EXPECT_EQ(set.unavailable()[0].name, "context_switches");
  EXPECT_EQ(set.unavailable()[0].reason,
            "perf_event_open(context_switches) failed: EPERM (Operation not permitted)");
}

TEST(CounterSet, StartResetsThenEnables) {
  FakeState state;
  state.rule = [](const perf_event_attr& attr) { return is_hardware(attr) ? ENOENT : 0; };
  CounterSet set = open_with(state);

  set.start();
  set.stop();
  const std::vector<std::string> expected = {"reset 3",  "reset 4",   "reset 5",   "enable 3", "enable 4",
                                             "enable 5", "disable 3", "disable 4", "disable 5"};
  EXPECT_EQ(state.calls, expected);
}

TEST(CounterSet, ReadScalesMultiplexedCounts) {
  FakeState state;
  CounterSet set = open_with(state);
  state.counts[3] = RawCount{100, 200, 100};  // cycles_user ran half the time
  state.counts[4] = RawCount{5, 50, 50};      // cycles_kernel ran throughout
  state.counts[5] = RawCount{7, 100, 0};      // instructions_user never ran

  const std::vector<Reading> readings = set.read();
  ASSERT_EQ(readings.size(), 9u);
  EXPECT_EQ(readings[0].name, "cycles_user");
  EXPECT_DOUBLE_EQ(readings[0].value, 200.0);
  EXPECT_TRUE(readings[0].multiplexed);
  EXPECT_DOUBLE_EQ(readings[1].value, 5.0);
  EXPECT_FALSE(readings[1].multiplexed);
  EXPECT_DOUBLE_EQ(readings[2].value, 0.0);
  EXPECT_TRUE(readings[2].multiplexed);
  EXPECT_DOUBLE_EQ(readings[8].value, 0.0);
}

TEST(CounterSet, DestructorClosesEveryHandle) {
  FakeState state;
  state.rule = [](const perf_event_attr& attr) { return is_hardware(attr) ? ENOENT : 0; };
  {
    CounterSet set = open_with(state);
    CounterSet moved = std::move(set);
  }
  const std::vector<std::string> expected = {"close 3", "close 4", "close 5"};
  EXPECT_EQ(state.calls, expected);
}

TEST(CounterSet, NullSourceRejected) { EXPECT_THROW(CounterSet::open(nullptr), std::invalid_argument); }

TEST(DescribeErrno, NamesCallAndError) {
  EXPECT_EQ(describe_errno("mmap", ENOMEM), "mmap failed: ENOMEM (Cannot allocate memory)");
}

TEST(EncodePfmEvent, UnknownEventThrows) {
  try {
    encode_pfm_event("perf::NO_SUCH_EVENT_NAME", Privilege::user);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("perf::NO_SUCH_EVENT_NAME"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace nozero::counters

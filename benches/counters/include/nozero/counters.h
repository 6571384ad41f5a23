// Per-thread event counters around a measured region: hardware events through
// libpfm4 and perf_event_open(2) when the CPU has a PMU, software events otherwise.
//
//   auto counters = nozero::counters::CounterSet::open(
//       nozero::counters::make_perf_event_source());
//   counters.start();
//   run_workload();
//   counters.stop();
//   for (const auto& reading : counters.read()) print(reading.name, reading.value);
//
// Counters count the thread that called start(), on any CPU, and not its children.
#pragma once

#include <linux/perf_event.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace nozero::counters {

// One read(2) of a counter opened with PERF_FORMAT_TOTAL_TIME_ENABLED and
// PERF_FORMAT_TOTAL_TIME_RUNNING. The times differ when the kernel multiplexes more
// hardware events than the PMU has counters.
struct RawCount {
  std::uint64_t value = 0;
  std::uint64_t time_enabled_ns = 0;
  std::uint64_t time_running_ns = 0;
};

// The kernel side of counting. PerfEventSource calls perf_event_open(2); tests use a
// fake that accepts or rejects events the way a PMU would.
class EventSource {
 public:
  virtual ~EventSource() = default;

  // Opens a disabled counter for the calling thread on any CPU. Returns a handle >= 0,
  // or -errno when the kernel rejects the event (ENOENT when the PMU lacks it).
  virtual int open(const perf_event_attr& attr) = 0;

  // The following throw std::system_error when the kernel call fails.
  virtual void reset(int handle) = 0;
  virtual void enable(int handle) = 0;
  virtual void disable(int handle) = 0;
  virtual RawCount read(int handle) = 0;
  virtual void close(int handle) = 0;
};

// Returns the EventSource of the running kernel.
std::unique_ptr<EventSource> make_perf_event_source();

enum class Privilege { user, kernel };

// Encodes a libpfm4 event string (for example "perf::PERF_COUNT_HW_CPU_CYCLES") into
// a perf_event_attr that counts only at the given privilege level. Initialises
// libpfm4 on first use. Throws std::runtime_error naming the event and libpfm4's
// error when the library or the event string is rejected.
perf_event_attr encode_pfm_event(std::string_view pfm_event, Privilege privilege);

enum class Mode {
  hardware,  // at least the user-space cycles counter opened
  software,  // no PMU: only software events count
};

// A hardware event with its user/kernel split, named as in the output: the event
// "cycles" becomes the counters "cycles_user" and "cycles_kernel".
struct HardwareEvent {
  std::string name;
  std::string pfm_event;
};

// cycles, instructions and llc_misses. llc_misses is the generic
// PERF_COUNT_HW_CACHE_MISSES, which the kernel maps to last-level cache misses on
// Intel and AMD PMUs.
const std::vector<HardwareEvent>& default_hardware_events();

// A counter that could not be opened, and why.
struct Unavailable {
  std::string name;
  std::string reason;
};

struct Reading {
  std::string name;
  // The count, scaled by time_enabled / time_running when the kernel multiplexed it.
  // A counter that never got a PMU slot reads 0 with multiplexed set.
  double value = 0;
  bool multiplexed = false;
};

// A set of counters opened together and started, stopped and read together.
//
// open() tries the hardware events first. When the first one (user-space cycles)
// fails, the set runs in software mode and fallback_reason() contains the error. The
// software events (page_faults, task_clock_ns, context_switches) are opened in both
// modes. A hardware event that fails after cycles succeeded is left out and listed
// by unavailable(), as is a kernel-side counter the perf_event_paranoid setting
// forbids.
class CounterSet {
 public:
  static CounterSet open(std::unique_ptr<EventSource> source,
                         const std::vector<HardwareEvent>& hardware_events = default_hardware_events());

  CounterSet(CounterSet&& other) noexcept;
  CounterSet& operator=(CounterSet&& other) noexcept;
  CounterSet(const CounterSet&) = delete;
  CounterSet& operator=(const CounterSet&) = delete;
  ~CounterSet();

  Mode mode() const { return mode_; }
  // "hardware (libpfm4)" or "software: no PMU".
  std::string_view mode_label() const;
  // Why hardware counting is off, for example
  // "perf_event_open(perf::PERF_COUNT_HW_CPU_CYCLES:u) failed: ENOENT (No such file or directory)".
  // Empty in hardware mode.
  const std::string& fallback_reason() const { return fallback_reason_; }
  const std::vector<Unavailable>& unavailable() const { return unavailable_; }
  std::vector<std::string> names() const;

  // Resets every counter to zero and enables it.
  void start();
  // Disables every counter; read() then returns the counts since start().
  void stop();
  std::vector<Reading> read() const;

 private:
  struct Counter {
    std::string name;
    int handle = -1;
  };

  explicit CounterSet(std::unique_ptr<EventSource> source);
  void open_hardware(const std::vector<HardwareEvent>& events);
  void open_software();
  void close_all();

  std::unique_ptr<EventSource> source_;
  std::vector<Counter> counters_;
  Mode mode_ = Mode::software;
  std::string fallback_reason_;
  std::vector<Unavailable> unavailable_;
};

// Formats a failed call as "CALL failed: ENAME (message)".
std::string describe_errno(std::string_view call, int error_number);

}  // namespace nozero::counters

// Choice between hardware and software counting, and the counter set's life cycle.
#include <cstring>
#include <stdexcept>
#include <utility>

#include "nozero/counters.h"

namespace nozero::counters {
namespace {

struct SoftwareEvent {
  const char* name;
  std::uint64_t config;
};

// Counted in user and kernel mode alike: a page fault is a kernel event that user
// code causes, and the task clock covers both.
constexpr SoftwareEvent kSoftwareEvents[] = {
    {"page_faults", PERF_COUNT_SW_PAGE_FAULTS},
    {"task_clock_ns", PERF_COUNT_SW_TASK_CLOCK},
    {"context_switches", PERF_COUNT_SW_CONTEXT_SWITCHES},
};

perf_event_attr software_attr(std::uint64_t config) {
  perf_event_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  attr.size = sizeof(attr);
  attr.type = PERF_TYPE_SOFTWARE;
  attr.config = config;
  return attr;
}

}  // namespace

std::string describe_errno(std::string_view call, int error_number) {
  const char* name = strerrorname_np(error_number);
  std::string text(call);
  text += " failed: ";
  text += name != nullptr ? name : "errno " + std::to_string(error_number);
  text += " (";
  text += std::strerror(error_number);
  text += ")";
  return text;
}

const std::vector<HardwareEvent>& default_hardware_events() {
  static const std::vector<HardwareEvent> events = {
      {"cycles", "perf::PERF_COUNT_HW_CPU_CYCLES"},
      {"instructions", "perf::PERF_COUNT_HW_INSTRUCTIONS"},
      {"llc_misses", "perf::PERF_COUNT_HW_CACHE_MISSES"},
  };
  return events;
}

CounterSet::CounterSet(std::unique_ptr<EventSource> source) : source_(std::move(source)) {}

CounterSet::CounterSet(CounterSet&& other) noexcept
    : source_(std::move(other.source_)),
      counters_(std::move(other.counters_)),
      mode_(other.mode_),
      fallback_reason_(std::move(other.fallback_reason_)),
      unavailable_(std::move(other.unavailable_)) {
  other.counters_.clear();
}

CounterSet& CounterSet::operator=(CounterSet&& other) noexcept {
  if (this != &other) {
    close_all();
    source_ = std::move(other.source_);
    counters_ = std::move(other.counters_);
    other.counters_.clear();
    mode_ = other.mode_;
    fallback_reason_ = std::move(other.fallback_reason_);
    unavailable_ = std::move(other.unavailable_);
  }
  return *this;
}

CounterSet::~CounterSet() { close_all(); }

void CounterSet::close_all() {
  for (const Counter& counter : counters_) {
    source_->close(counter.handle);
  }
  counters_.clear();
}

CounterSet CounterSet::open(std::unique_ptr<EventSource> source,
                            const std::vector<HardwareEvent>& hardware_events) {
  if (source == nullptr) {
    throw std::invalid_argument("CounterSet::open: the event source is null");
  }
  CounterSet set(std::move(source));
  set.open_hardware(hardware_events);
  set.open_software();
  return set;
}

void CounterSet::open_hardware(const std::vector<HardwareEvent>& events) {
  mode_ = Mode::hardware;
  bool first = true;
  for (const HardwareEvent& event : events) {
    for (const Privilege privilege : {Privilege::user, Privilege::kernel}) {
      const bool user = privilege == Privilege::user;
      const std::string name = event.name + (user ? "_user" : "_kernel");
      const std::string call = "perf_event_open(" + event.pfm_event + (user ? ":u" : ":k") + ")";

      std::string reason;
      int handle = -1;
      try {
        handle = source_->open(encode_pfm_event(event.pfm_event, privilege));
        if (handle < 0) {
          reason = describe_errno(call, -handle);
        }
      } catch (const std::runtime_error& error) {
        reason = error.what();
      }

      // The first event decides the mode: without user-space cycles there is no PMU
      // worth reporting, and the rest would fail the same way.
      if (first && !reason.empty()) {
        mode_ = Mode::software;
        fallback_reason_ = reason;
        return;
      }
      first = false;

      if (reason.empty()) {
        counters_.push_back(Counter{name, handle});
      } else {
        unavailable_.push_back(Unavailable{name, reason});
      }
    }
  }
  if (first) {
    // An empty event list: nothing was even tried.
    mode_ = Mode::software;
    fallback_reason_ = "no hardware events requested";
  }
}

void CounterSet::open_software() {
  for (const SoftwareEvent& event : kSoftwareEvents) {
    const int handle = source_->open(software_attr(event.config));
    if (handle < 0) {
      unavailable_.push_back(Unavailable{
          event.name, describe_errno(std::string("perf_event_open(") + event.name + ")", -handle)});
      continue;
    }
    counters_.push_back(Counter{event.name, handle});
  }
}

std::string_view CounterSet::mode_label() const {
  return mode_ == Mode::hardware ? "hardware (libpfm4)" : "software: no PMU";
}

std::vector<std::string> CounterSet::names() const {
  std::vector<std::string> result;
  result.reserve(counters_.size());
  for (const Counter& counter : counters_) {
    result.push_back(counter.name);
  }
  return result;
}

void CounterSet::start() {
  for (const Counter& counter : counters_) {
    source_->reset(counter.handle);
  }
  for (const Counter& counter : counters_) {
    source_->enable(counter.handle);
  }
}

void CounterSet::stop() {
  for (const Counter& counter : counters_) {
    source_->disable(counter.handle);
  }
}

std::vector<Reading> CounterSet::read() const {
  std::vector<Reading> readings;
  readings.reserve(counters_.size());
  for (const Counter& counter : counters_) {
    const RawCount raw = source_->read(counter.handle);
    Reading reading{counter.name, static_cast<double>(raw.value), false};
    if (raw.time_running_ns < raw.time_enabled_ns) {
      // The PMU shared its counters: extrapolate to the whole enabled time. A counter
      // that never ran (time_running 0) is reported as 0 and flagged.
      reading.multiplexed = true;
      reading.value = raw.time_running_ns == 0
                          ? 0.0
                          : reading.value * static_cast<double>(raw.time_enabled_ns) /
                                static_cast<double>(raw.time_running_ns);
    }
    readings.push_back(reading);
  }
  return readings;
}

}  // namespace nozero::counters

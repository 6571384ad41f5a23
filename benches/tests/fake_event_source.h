// An EventSource that replaces a PMU: it accepts or rejects each event through
// a rule the test sets, returns the counts the test sets and logs every call.
#pragma once

#include <cerrno>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nozero/counters.h"

namespace nozero::counters::testing {

struct FakeState {
  // Returns 0 to accept an event, or the errno to reject it with.
  std::function<int(const perf_event_attr&)> rule = [](const perf_event_attr&) { return 0; };
  std::vector<perf_event_attr> opened;
  std::map<int, RawCount> counts;
  // "reset 3", "enable 3", "disable 3", "close 3" in call order.
  std::vector<std::string> calls;
};

class FakeEventSource final : public EventSource {
 public:
  // The state outlives the source, so a test can inspect it after the CounterSet
  // that owns the source is gone.
  explicit FakeEventSource(FakeState& state) : state_(state) {}

  int open(const perf_event_attr& attr) override {
    const int error = state_.rule(attr);
    if (error != 0) {
      return -error;
    }
    state_.opened.push_back(attr);
    return static_cast<int>(state_.opened.size()) + 2;  // like an fd after stdio
  }
  void reset(int handle) override { log("reset", handle); }
  void enable(int handle) override { log("enable", handle); }
  void disable(int handle) override { log("disable", handle); }
  RawCount read(int handle) override { return state_.counts[handle]; }
  void close(int handle) override { log("close", handle); }

 private:
  void log(const char* call, int handle) { state_.calls.push_back(std::string(call) + " " + std::to_string(handle)); }
  FakeState& state_;
};

inline bool is_hardware(const perf_event_attr& attr) {
  return attr.type == PERF_TYPE_HARDWARE || attr.type == PERF_TYPE_HW_CACHE || attr.type == PERF_TYPE_RAW;
}

}  // namespace nozero::counters::testing

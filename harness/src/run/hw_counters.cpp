#include "run/hw_counters.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "nozero/counters.h"

namespace nozero::run {

namespace {

int open_perf_event(const perf_event_attr& attr, pid_t pid) {
  perf_event_attr copy = attr;
  long fd = syscall(SYS_perf_event_open, &copy, pid, -1, -1, PERF_FLAG_FD_CLOEXEC);
  return fd < 0 ? -errno : static_cast<int>(fd);
}

}  // namespace

ChildCounters ChildCounters::probe() {
  counters::CounterSet set = counters::CounterSet::open(counters::make_perf_event_source());
  bool hardware = set.mode() == counters::Mode::hardware;
  return ChildCounters(hardware, hardware ? "" : set.fallback_reason(), open_perf_event);
}

ChildCounters::ChildCounters(bool available, std::string reason, PerfEventOpener opener)
    : available_(available), reason_(std::move(reason)), opener_(std::move(opener)) {}

ChildCounters::ChildCounters(ChildCounters&& other) noexcept
    : available_(other.available_),
      reason_(std::move(other.reason_)),
      opener_(std::move(other.opener_)),
      counters_(std::move(other.counters_)),
      failed_(std::move(other.failed_)) {
  other.counters_.clear();
}

ChildCounters& ChildCounters::operator=(ChildCounters&& other) noexcept {
  if (this != &other) {
    for (const Counter& counter : counters_) close(counter.fd);
    available_ = other.available_;
    reason_ = std::move(other.reason_);
    opener_ = std::move(other.opener_);
    counters_ = std::move(other.counters_);
    failed_ = std::move(other.failed_);
    other.counters_.clear();
  }
  return *this;
}

ChildCounters::~ChildCounters() {
  for (const Counter& counter : counters_) {
    if (counter.fd >= 0) close(counter.fd);
  }
}

void ChildCounters::attach(pid_t pid) {
  if (!available_) return;
  for (const counters::HardwareEvent& event : counters::default_hardware_events()) {
    for (counters::Privilege privilege : {counters::Privilege::user, counters::Privilege::kernel}) {
      std::string name = event.name + (privilege == counters::Privilege::user ? "_user" : "_kernel");
      perf_event_attr attr;
      try {
        attr = counters::encode_pfm_event(event.pfm_event, privilege);
      } catch (const std::exception& error) {
        failed_.push_back(name + ": " + error.what());
        continue;
      }
      attr.disabled = 1;
      attr.enable_on_exec = 1;
      attr.inherit = 1;
      attr.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;
      int fd = opener_(attr, pid);
      if (fd < 0) {
        failed_.push_back(name + ": " + counters::describe_errno("perf_event_open", -fd));
        continue;
      }
      counters_.push_back({name, fd});
    }
  }
}

nlohmann::ordered_json ChildCounters::read() const {
  if (!available_) return {{"available", false}, {"reason", reason_}};
  nlohmann::ordered_json counts = nlohmann::ordered_json::object();
  bool multiplexed = false;
  for (const Counter& counter : counters_) {
    std::uint64_t values[3] = {0, 0, 0};
    if (::read(counter.fd, values, sizeof values) != static_cast<ssize_t>(sizeof values)) continue;
    double value = static_cast<double>(values[0]);
    // Scale a multiplexed counter to the whole time it was enabled.
    if (values[2] != 0 && values[2] < values[1]) {
      value = value * static_cast<double>(values[1]) / static_cast<double>(values[2]);
      multiplexed = true;
    }
    counts[counter.name] = value;
  }
  nlohmann::ordered_json block = {{"available", true}, {"source", "libpfm4 + perf_event_open, inherited"}};
  block["counts"] = counts;
  block["multiplexed"] = multiplexed;
  if (!failed_.empty()) block["unavailable"] = failed_;
  return block;
}

}  // namespace nozero::run

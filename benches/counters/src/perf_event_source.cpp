// EventSource of the running kernel: perf_event_open(2) and the counter ioctls.
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "nozero/counters.h"

namespace nozero::counters {
namespace {

class PerfEventSource final : public EventSource {
 public:
  int open(const perf_event_attr& attr) override {
    perf_event_attr request = attr;
    request.size = sizeof(request);
    request.disabled = 1;
    request.read_format = PERF_FORMAT_TOTAL_TIME_ENABLED | PERF_FORMAT_TOTAL_TIME_RUNNING;

    // pid 0 and cpu -1: the calling thread on whatever CPU it runs.
    const long fd = syscall(SYS_perf_event_open, &request, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0) {
      return -errno;
    }
    return static_cast<int>(fd);
  }

  void reset(int handle) override { control(handle, PERF_EVENT_IOC_RESET, "PERF_EVENT_IOC_RESET"); }
  void enable(int handle) override { control(handle, PERF_EVENT_IOC_ENABLE, "PERF_EVENT_IOC_ENABLE"); }
  void disable(int handle) override { control(handle, PERF_EVENT_IOC_DISABLE, "PERF_EVENT_IOC_DISABLE"); }

  RawCount read(int handle) override {
    // Layout fixed by read_format: value, time_enabled, time_running.
    std::uint64_t fields[3] = {};
    const ssize_t length = ::read(handle, fields, sizeof(fields));
    if (length != static_cast<ssize_t>(sizeof(fields))) {
      const int error = length < 0 ? errno : EIO;
      throw std::system_error(error, std::generic_category(), "read of a perf event counter");
    }
    return RawCount{fields[0], fields[1], fields[2]};
  }

  void close(int handle) override { ::close(handle); }

 private:
  static void control(int handle, unsigned long request, const char* name) {
    if (ioctl(handle, request, 0) != 0) {
      throw std::system_error(errno, std::generic_category(), name);
    }
  }
};

}  // namespace

std::unique_ptr<EventSource> make_perf_event_source() { return std::make_unique<PerfEventSource>(); }

}  // namespace nozero::counters

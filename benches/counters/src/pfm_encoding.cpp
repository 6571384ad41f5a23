// Event strings to perf_event_attr through libpfm4.
//
// counters.h brings <linux/perf_event.h>, which must come before libpfm4's headers:
// libpfm4's own copy of the perf ABI steps aside only when the kernel's is present.
#include "nozero/counters.h"

#include <perfmon/pfmlib_perf_event.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <stdexcept>
#include <string>

namespace nozero::counters {
namespace {

int initialise_pfm() {
  static std::once_flag once;
  static int result = PFM_SUCCESS;
  std::call_once(once, [] { result = pfm_initialize(); });
  return result;
}

}  // namespace

perf_event_attr encode_pfm_event(std::string_view pfm_event, Privilege privilege) {
  const int init = initialise_pfm();
  if (init != PFM_SUCCESS) {
    throw std::runtime_error("libpfm4: pfm_initialize failed: " + std::string(pfm_strerror(init)));
  }

  perf_event_attr attr;
  std::memset(&attr, 0, sizeof(attr));
  pfm_perf_encode_arg_t arg;
  std::memset(&arg, 0, sizeof(arg));
  arg.attr = &attr;
  arg.size = sizeof(arg);

  // PFM_PLM3 is user space and PFM_PLM0 the kernel. libpfm4 turns the level into
  // exclude_kernel or exclude_user for the PFM_OS_PERF_EVENT encoding.
  const int level = privilege == Privilege::user ? PFM_PLM3 : PFM_PLM0;
  const std::string name(pfm_event);
  const int status = pfm_get_os_event_encoding(name.c_str(), level, PFM_OS_PERF_EVENT, &arg);
  if (status != PFM_SUCCESS) {
    throw std::runtime_error("libpfm4: cannot encode event '" + name + "': " + pfm_strerror(status));
  }
  return attr;
}

}  // namespace nozero::counters

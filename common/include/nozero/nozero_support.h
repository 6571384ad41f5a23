// Detecting whether the running kernel honours MAP_NOZERO, and the process-wide
// opt-in. An unpatched kernel accepts the MAP_NOZERO bit (it is MAP_UNINITIALIZED,
// ignored on MMU kernels) and returns zeroed pages, so support is read from the
// interfaces the series adds and never inferred from mmap.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include <nlohmann/json.hpp>

#include "nozero/uapi.h"

namespace nozero {

enum class KernelSupport {
  supported,      // the sysctl exists and is non-zero, and PR_GET_NOZERO succeeds
  disabled,       // the series is present but the sysctl is 0, so pages are cleared
  not_supported,  // no sysctl, or the series' prctl failed
};

// "supported", "disabled" or "not-supported", as in the result documents.
std::string_view to_string(KernelSupport support);

struct NozeroSupport {
  KernelSupport support = KernelSupport::not_supported;
  // The values read, e.g. "/proc/sys/vm/nozero=1, PR_GET_NOZERO=0".
  std::string detail;
  // The sysctl's value, when the file exists and contains an integer.
  std::optional<long> sysctl;
  // PR_GET_NOZERO's result for this process, when the prctl succeeded.
  std::optional<long> prctl_value;
};

// The result of one prctl(PR_GET_NOZERO) call: the value, or the errno.
struct PrctlResult {
  long value = -1;
  int error = 0;
};

struct SupportProbe {
  std::string sysctl_path = uapi::kSysctlPath;
  // Called only after the sysctl file was found, because on kernels without the
  // series the option number may belong to something else.
  std::function<PrctlResult()> get_nozero;
  // Named in the detail string when the series is missing.
  std::function<std::string()> kernel_release;
};

// The probe of the running kernel: /proc/sys/vm/nozero, prctl and uname.
SupportProbe system_probe();

NozeroSupport detect_nozero_support(const SupportProbe& probe);
NozeroSupport detect_nozero_support();

// Switches on the process-wide opt-in: prctl(PR_SET_NOZERO, 1). nozero-exec and
// cc-sim call it right before execve and rely on the series keeping the flag across
// execve. Call it only when detect_nozero_support() did not return not_supported.
// It makes only the prctl system call, so it is safe between fork and exec.
std::error_code request_process_nozero() noexcept;

// The "nozero" block of a result document.
nlohmann::ordered_json to_json(const NozeroSupport& support, bool requested);

// A one-line warning for stderr when MAP_NOZERO was requested but pages will still
// be cleared, or an empty string when the kernel honours the request.
std::string unsupported_warning(const NozeroSupport& support);

}  // namespace nozero

#include "nozero/nozero_support.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace nozero {
namespace {

struct SysctlRead {
  bool found = false;
  int error = 0;  // errno of a failed open or read of an existing file
  std::string contents;
};

SysctlRead read_sysctl(const std::string& path) {
  SysctlRead result;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    result.found = errno != ENOENT && errno != ENOTDIR;
    result.error = errno;
    return result;
  }
  result.found = true;
  char buffer[64];
  ssize_t count = ::read(fd, buffer, sizeof buffer);
  if (count < 0) {
    result.error = errno;
  } else {
    result.contents.assign(buffer, static_cast<std::size_t>(count));
  }
  ::close(fd);
  return result;
}

std::optional<long> parse_sysctl_value(std::string_view text) {
  std::size_t begin = text.find_first_not_of(" \t\n");
  std::size_t end = text.find_last_not_of(" \t\n");
  if (begin == std::string_view::npos) return std::nullopt;
  text = text.substr(begin, end - begin + 1);
  long value = 0;
  auto [stop, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || stop != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string_view to_string(KernelSupport support) {
  switch (support) {
    case KernelSupport::supported:
      return "supported";
    case KernelSupport::disabled:
      return "disabled";
    case KernelSupport::not_supported:
      return "not-supported";
  }
  return "not-supported";
}

SupportProbe system_probe() {
  SupportProbe probe;
  probe.get_nozero = [] {
    PrctlResult result;
    int value = ::prctl(uapi::kPrGetNozero, 0, 0, 0, 0);
    if (value < 0) {
      result.error = errno;
    } else {
      result.value = value;
    }
    return result;
  };
  probe.kernel_release = [] {
    struct utsname name {};
    if (::uname(&name) != 0) return std::string{"(uname failed)"};
    return std::string{name.release};
  };
  return probe;
}

NozeroSupport detect_nozero_support(const SupportProbe& probe) {
  NozeroSupport result;
  const std::string& path = probe.sysctl_path;

  // Step 1: the sysctl. Without it the kernel lacks the series, and the prctl
  // option number must not be used.
  SysctlRead sysctl = read_sysctl(path);
  if (!sysctl.found) {
    std::string release = probe.kernel_release ? probe.kernel_release() : std::string{"unknown"};
    result.detail = path + " not found: kernel " + release + " does not have the MAP_NOZERO series";
    return result;
  }
  if (sysctl.error != 0) {
    result.detail = path + " exists but cannot be read (" + std::strerror(sysctl.error) +
                    "), so whether the kernel recycles pages is unknown";
    return result;
  }
  result.sysctl = parse_sysctl_value(sysctl.contents);
  if (!result.sysctl) {
    result.detail = path + " holds \"" + sysctl.contents + "\", not an integer";
    return result;
  }
  std::string sysctl_text = path + "=" + std::to_string(*result.sysctl);

  // Step 2: the prctl proves the running kernel implements the series' interface.
  PrctlResult prctl = probe.get_nozero ? probe.get_nozero() : PrctlResult{-1, ENOSYS};
  if (prctl.error != 0) {
    result.detail = sysctl_text + ", PR_GET_NOZERO failed: " + std::strerror(prctl.error);
    return result;
  }
  result.prctl_value = prctl.value;
  result.detail = sysctl_text + ", PR_GET_NOZERO=" + std::to_string(prctl.value);
  result.support = *result.sysctl == 0 ? KernelSupport::disabled : KernelSupport::supported;
  return result;
}

NozeroSupport detect_nozero_support() { return detect_nozero_support(system_probe()); }

std::error_code request_process_nozero() noexcept {
  if (::prctl(uapi::kPrSetNozero, 1, 0, 0, 0) != 0) return {errno, std::generic_category()};
  return {};
}

nlohmann::ordered_json to_json(const NozeroSupport& support, bool requested) {
  nlohmann::ordered_json block{
      {"requested", requested},
      {"kernel_support", to_string(support.support)},
      {"detail", support.detail},
  };
  block["sysctl"] = support.sysctl ? nlohmann::ordered_json(*support.sysctl) : nlohmann::ordered_json(nullptr);
  return block;
}

std::string unsupported_warning(const NozeroSupport& support) {
  switch (support.support) {
    case KernelSupport::supported:
      return {};
    case KernelSupport::disabled:
      return "MAP_NOZERO was requested, but the kernel has it switched off (" + support.detail +
             "), so every page is still cleared; enable it with: sysctl vm.nozero=1";
    case KernelSupport::not_supported:
      break;
  }
  return "MAP_NOZERO was requested, but the kernel does not support it (" + support.detail +
         "), so every page is still cleared";
}

}  // namespace nozero

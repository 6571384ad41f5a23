#include "system_info.h"

#include <sys/prctl.h>
#include <sys/utsname.h>

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "nozero/counters.h"
#include "nozero/uapi.h"

namespace nozero::benches {
namespace {

std::optional<std::string> read_first_line(const std::filesystem::path& path) {
  std::ifstream file(path);
  std::string line;
  if (!file || !std::getline(file, line)) {
    return std::nullopt;
  }
  return line;
}

std::string trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

}  // namespace

std::string kernel_release() {
  utsname name{};
  if (uname(&name) != 0) {
    return "unknown";
  }
  return name.release;
}

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.starts_with("model name")) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) {
        return trim(std::string_view(line).substr(colon + 1));
      }
    }
  }
  return "unknown";
}

std::string thp_setting(std::string_view name) {
  const std::filesystem::path path = std::filesystem::path("/sys/kernel/mm/transparent_hugepage") / name;
  const auto line = read_first_line(path);
  if (!line) {
    return "unavailable (" + path.string() + " not readable)";
  }
  const auto open = line->find('[');
  const auto close = line->find(']', open);
  if (open == std::string::npos || close == std::string::npos) {
    return trim(*line);
  }
  return line->substr(open + 1, close - open - 1);
}

NozeroSupport detect_nozero() {
  NozeroSupport support;
  const auto line = read_first_line(uapi::kSysctlPath);
  if (!line) {
    support.kernel_support = "not-supported";
    support.detail = std::string(uapi::kSysctlPath) + " not found";
    return support;
  }

  int value = 0;
  const auto text = trim(*line);
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    support.kernel_support = "not-supported";
    support.detail = std::string(uapi::kSysctlPath) + " holds '" + text + "', expected an integer";
    return support;
  }
  support.sysctl = value;

  std::ostringstream detail;
  detail << uapi::kSysctlPath << '=' << value;
  const int process_opt_in = prctl(uapi::kPrGetNozero, 0, 0, 0, 0);
  if (process_opt_in < 0) {
    detail << ", " << counters::describe_errno("prctl(PR_GET_NOZERO)", errno);
  } else {
    detail << ", PR_GET_NOZERO=" << process_opt_in;
  }
  support.detail = detail.str();
  if (process_opt_in < 0) {
    support.kernel_support = "not-supported";
  } else {
    support.kernel_support = value != 0 ? "supported" : "disabled";
  }
  return support;
}

VmStat read_vmstat() {
  VmStat counters;
  std::ifstream file("/proc/vmstat");
  std::string name;
  std::uint64_t value = 0;
  while (file >> name >> value) {
    counters.emplace(name, value);
  }
  return counters;
}

std::optional<std::uint64_t> anon_huge_kib(const void* start) {
  std::ostringstream prefix;
  prefix << std::hex << reinterpret_cast<std::uintptr_t>(start) << '-';
  const std::string wanted = prefix.str();

  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    // A mapping's header line starts with "start-end"; field lines start with a name.
    if (line.starts_with(wanted)) {
      inside = true;
      continue;
    }
    if (inside && line.starts_with("AnonHugePages:")) {
      std::istringstream fields(line.substr(std::string_view("AnonHugePages:").size()));
      std::uint64_t kib = 0;
      fields >> kib;
      return kib;
    }
  }
  return std::nullopt;
}

std::string detect_measured_on() {
  // QEMU names its "max" CPU model "QEMU TCG CPU version ..." under TCG; under KVM
  // the guest gets the host's model name.
  return cpu_model().find("QEMU TCG") != std::string::npos ? "TCG guest" : "host";
}

}  // namespace nozero::benches

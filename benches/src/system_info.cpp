#include "system_info.h"

#include <sys/utsname.h>

#include <filesystem>
#include <fstream>
#include <sstream>


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

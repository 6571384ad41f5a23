#include "run/kernel_probes.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

namespace nozero::run {

std::optional<std::string> read_text_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

namespace {

// Writes a tracefs control file. set_ftrace_filter takes one function per write(2)
// and returns a short count, so the rest is written in further calls.
std::string write_all(int fd, const std::filesystem::path& path, const std::string& value) {
  std::size_t done = 0;
  while (done < value.size()) {
    ssize_t written = write(fd, value.data() + done, value.size() - done);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) {
      std::string reason = written < 0 ? std::strerror(errno) : "nothing written";
      return "write '" + value + "' to " + path.string() + " failed: " + reason;
    }
    done += static_cast<std::size_t>(written);
  }
  return "";
}

std::string write_control(const std::filesystem::path& path, const std::string& value) {
  int fd = open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) return "open " + path.string() + " failed: " + std::strerror(errno);
  std::string error = write_all(fd, path, value);
  close(fd);
  return error;
}

}  // namespace

Vmstat parse_vmstat(const std::string& text) {
  Vmstat counters;
  std::istringstream lines(text);
  std::string name;
  std::int64_t value = 0;
  while (lines >> name >> value) counters[name] = value;
  return counters;
}

Vmstat read_vmstat(const std::filesystem::path& path) {
  std::optional<std::string> text = read_text_file(path);
  if (!text) throw std::runtime_error("cannot read " + path.string() + ": " + std::strerror(errno));
  return parse_vmstat(*text);
}

Vmstat vmstat_delta(const Vmstat& before, const Vmstat& after) {
  Vmstat delta;
  for (const auto& [name, value] : after) {
    auto previous = before.find(name);
    if (previous != before.end()) delta[name] = value - previous->second;
  }
  return delta;
}

nlohmann::ordered_json selected_vmstat_json(const Vmstat& delta) {
  static const char* const kKept[] = {
      "pgfault", "pgmajfault", "pgalloc_dma", "pgalloc_dma32", "pgalloc_normal", "pgalloc_movable",
      "pgfree", "thp_fault_alloc", "thp_fault_fallback", "thp_collapse_alloc", "nozero_free",
      "nozero_reuse", "nozero_clear", "nozero_thp_reuse", "nozero_thp_clear"};
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (const char* name : kKept) {
    auto entry = delta.find(name);
    if (entry != delta.end()) json[name] = entry->second;
  }
  // Keep any other counter of the series, so a counter added later is not lost.
  for (const auto& [name, value] : delta) {
    if (name.rfind("nozero_", 0) == 0 && !json.contains(name)) json[name] = value;
  }
  return json;
}

std::map<std::string, FunctionStat> parse_function_profile(const std::string& text) {
  // Lines after the two header lines: NAME HITS [TIME us AVG us S2 us]. Kernels
  // without the function-graph tracer print hits only.
  std::map<std::string, FunctionStat> stats;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name;
    std::string hits;
    if (!(fields >> name >> hits)) continue;
    if (name == "Function" || name.find_first_not_of('-') == std::string::npos) continue;
    if (hits.empty() || hits.find_first_not_of("0123456789") != std::string::npos) continue;
    FunctionStat& stat = stats[name];
    stat.hits += std::stoll(hits);
    double time = 0;
    std::string unit;
    if (fields >> time >> unit) stat.total_us += unit == "ns" ? time / 1000 : time;
  }
  return stats;
}

std::optional<std::filesystem::path> find_tracefs() {
  for (const char* candidate : {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"}) {
    std::error_code error;
    if (std::filesystem::exists(std::filesystem::path{candidate} / "available_filter_functions", error)) {
      return std::filesystem::path{candidate};
    }
  }
  return std::nullopt;
}

FunctionProfiler::FunctionProfiler(const std::vector<std::string>& wanted, bool may_mount) {
  if (wanted.empty()) {
    reason_ = "profiling is off: no function to profile was requested";
    return;
  }
  std::optional<std::filesystem::path> found = find_tracefs();
  if (!found && may_mount) {
    if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, nullptr) == 0) {
      found = find_tracefs();
    } else {
      reason_ = std::string{"tracefs is not mounted and mounting it at /sys/kernel/tracing failed: "} +
                std::strerror(errno);
      return;
    }
  }
  if (!found) {
    reason_ = "tracefs is not mounted (looked for /sys/kernel/tracing and /sys/kernel/debug/tracing)";
    return;
  }
  tracefs_ = *found;
  if (!std::filesystem::exists(tracefs_ / "function_profile_enabled")) {
    reason_ = "the kernel has no function profiler (CONFIG_FUNCTION_PROFILER): " +
              (tracefs_ / "function_profile_enabled").string() + " is missing";
    return;
  }
  std::optional<std::string> available = read_text_file(tracefs_ / "available_filter_functions");
  if (!available) {
    reason_ = "cannot read " + (tracefs_ / "available_filter_functions").string() + ": " + std::strerror(errno);
    return;
  }
  std::set<std::string> traceable;
  std::istringstream lines(*available);
  std::string line;
  while (std::getline(lines, line)) traceable.insert(line.substr(0, line.find(' ')));
  for (const std::string& name : wanted) {
    (traceable.count(name) ? functions_ : missing_).push_back(name);
  }
  if (functions_.empty()) {
    reason_ = "none of the functions to profile is traceable in this kernel (not in available_filter_functions)";
    return;
  }
  std::string filter;
  for (const std::string& name : functions_) filter += name + "\n";
  std::string error = write_control(tracefs_ / "set_ftrace_filter", filter);
  if (!error.empty()) reason_ = "setting the function filter failed: " + error;
}

void FunctionProfiler::start() {
  if (!available()) return;
  // Writing 1 when the profiler is already on does not reset it, so write 0 first.
  write_control(tracefs_ / "function_profile_enabled", "0");
  std::string error = write_control(tracefs_ / "function_profile_enabled", "1");
  if (!error.empty()) throw std::runtime_error("starting the function profiler failed: " + error);
}

std::map<std::string, FunctionStat> FunctionProfiler::stop() {
  if (!available()) return {};
  std::string error = write_control(tracefs_ / "function_profile_enabled", "0");
  if (!error.empty()) throw std::runtime_error("stopping the function profiler failed: " + error);
  return read();
}

std::map<std::string, FunctionStat> profile_difference(const std::map<std::string, FunctionStat>& before,
                                                       const std::map<std::string, FunctionStat>& after) {
  std::map<std::string, FunctionStat> difference;
  for (const auto& [name, stat] : after) {
    FunctionStat& entry = difference[name];
    entry = stat;
    if (auto earlier = before.find(name); earlier != before.end()) {
      entry.hits -= earlier->second.hits;
      entry.total_us -= earlier->second.total_us;
    }
  }
  return difference;
}

std::map<std::string, FunctionStat> FunctionProfiler::read() const {
  std::map<std::string, FunctionStat> totals;
  if (!available()) return totals;
  std::error_code list_error;
  for (const auto& entry : std::filesystem::directory_iterator(tracefs_ / "trace_stat", list_error)) {
    if (entry.path().filename().string().rfind("function", 0) != 0) continue;
    std::optional<std::string> text = read_text_file(entry.path());
    if (!text) continue;
    for (const auto& [name, stat] : parse_function_profile(*text)) {
      totals[name].hits += stat.hits;
      totals[name].total_us += stat.total_us;
    }
  }
  // Functions that were never called are absent from trace_stat: report 0 hits.
  for (const std::string& name : functions_) totals.try_emplace(name);
  return totals;
}

std::map<std::string, std::int64_t> parse_kprobe_profile(const std::string& text) {
  // "  EVENT  NHIT  NMISSED" per line (trace_kprobe.c, probes_profile_seq_show).
  std::map<std::string, std::int64_t> hits;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string name;
    std::int64_t count = 0;
    if (fields >> name >> count) hits[name] = count;
  }
  return hits;
}

namespace {

constexpr const char* kKprobeGroup = "nozero_bench";

// A kprobe event name for a function: letters, digits and underscores only.
std::string kprobe_event_name(const std::string& function) {
  std::string name = "nzb_" + function;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') c = '_';
  }
  return name;
}

std::string append_control(const std::filesystem::path& path, const std::string& value) {
  int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
  if (fd < 0) return "open " + path.string() + " failed: " + std::strerror(errno);
  std::string error = write_all(fd, path, value);
  close(fd);
  return error;
}

}  // namespace

KprobeHitCounter::KprobeHitCounter(const std::filesystem::path& tracefs, const std::vector<std::string>& functions)
    : tracefs_(tracefs) {
  if (!std::filesystem::exists(tracefs_ / "kprobe_events")) {
    reason_ = "the kernel has no kprobe events (CONFIG_KPROBE_EVENTS): " + (tracefs_ / "kprobe_events").string() +
              " is missing";
    return;
  }
  write_control(tracefs_ / "tracing_on", "0");
  for (const std::string& function : functions) {
    std::string event = kprobe_event_name(function);
    // A probe left by an earlier runner would make the definition fail.
    append_control(tracefs_ / "kprobe_events", "-:" + std::string{kKprobeGroup} + "/" + event + "\n");
    std::string error = append_control(tracefs_ / "kprobe_events",
                                       "p:" + std::string{kKprobeGroup} + "/" + event + " " + function + "\n");
    if (error.empty()) {
      error = write_control(tracefs_ / "events" / kKprobeGroup / event / "enable", "1");
    }
    if (error.empty()) {
      functions_.push_back(function);
    } else {
      failed_[function] = error;
    }
  }
  if (functions_.empty()) {
    reason_ = "no kprobe could be placed on the clear_page functions";
    for (const auto& [function, error] : failed_) reason_ += "; " + function + ": " + error;
  }
}

KprobeHitCounter::~KprobeHitCounter() {
  for (const std::string& function : functions_) {
    std::string event = kprobe_event_name(function);
    write_control(tracefs_ / "events" / kKprobeGroup / event / "enable", "0");
    append_control(tracefs_ / "kprobe_events", "-:" + std::string{kKprobeGroup} + "/" + event + "\n");
  }
  if (!tracefs_.empty()) write_control(tracefs_ / "tracing_on", "1");
}

std::map<std::string, std::int64_t> KprobeHitCounter::read() const {
  std::map<std::string, std::int64_t> hits;
  if (functions_.empty()) return hits;
  std::map<std::string, std::int64_t> profile = parse_kprobe_profile(read_text_file(tracefs_ / "kprobe_profile").value_or(""));
  for (const std::string& function : functions_) hits[function] = profile[kprobe_event_name(function)];
  return hits;
}

}  // namespace nozero::run

#include "run/perf_profile.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "core/process.h"
#include "run/child_process.h"
#include "run/kernel_probes.h"

namespace nozero::run {

namespace {

std::string trim(const std::string& text) {
  auto begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  auto end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

// The last non-empty line of a log, for error messages.
std::string last_line(const std::string& text) {
  std::string trimmed = trim(text);
  auto newline = trimmed.rfind('\n');
  return newline == std::string::npos ? trimmed : trimmed.substr(newline + 1);
}

}  // namespace

std::optional<std::filesystem::path> find_in_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string directories = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::istringstream parts(directories);
  std::string directory;
  while (std::getline(parts, directory, ':')) {
    if (directory.empty()) continue;
    std::filesystem::path candidate = std::filesystem::path{directory} / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return std::nullopt;
}

PerfAvailability probe_perf(const std::filesystem::path& scratch_dir) {
  PerfAvailability availability;
  std::optional<std::filesystem::path> perf = find_in_path("perf");
  if (!perf) {
    availability.reason = "perf is not installed (no perf in PATH; Debian package linux-perf)";
    return availability;
  }
  availability.perf = *perf;
  std::filesystem::path data = scratch_dir / "probe.perf.data";
  std::filesystem::path log = scratch_dir / "probe.perf.log";
  ChildOptions options;
  options.argv = perf_record_prefix(*perf, data);
  options.argv.push_back("true");
  options.stdout_path = log;
  options.stderr_path = log;
  options.timeout_s = 60;
  ChildResult result = run_child(options);
  std::error_code ignored;
  if (result.exit_status != 0) {
    availability.reason = "perf record -e cpu-clock failed: " +
                          (result.error.empty() ? last_line(read_text_file(log).value_or("")) : result.error);
  } else {
    availability.available = true;
  }
  std::filesystem::remove(data, ignored);
  std::filesystem::remove(log, ignored);
  return availability;
}

std::vector<std::string> perf_record_prefix(const std::filesystem::path& perf,
                                            const std::filesystem::path& output) {
  return {perf.string(), "record", "-e", "cpu-clock", "-B", "-N", "-q", "-o", output.string(), "--"};
}

PerfSummary parse_perf_report(const std::string& text) {
  PerfSummary summary;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::istringstream parts(line);
    std::string field;
    while (std::getline(parts, field, '|')) fields.push_back(trim(field));
    if (fields.size() < 4 || fields[0].empty() || fields[0].back() != '%') continue;
    SymbolShare share;
    try {
      share.samples = std::stoll(fields[1]);
    } catch (const std::exception&) {
      continue;
    }
    std::string symbol = fields[2];
    if (symbol.size() > 4 && symbol[0] == '[' && symbol[2] == ']') {
      share.mode = symbol[1];
      symbol = trim(symbol.substr(3));
    }
    share.symbol = symbol;
    share.dso = fields[3];
    summary.samples += share.samples;
    summary.symbols.push_back(std::move(share));
  }
  for (SymbolShare& share : summary.symbols) {
    share.share = summary.samples == 0 ? 0 : static_cast<double>(share.samples) / static_cast<double>(summary.samples);
  }
  std::stable_sort(summary.symbols.begin(), summary.symbols.end(),
                   [](const SymbolShare& a, const SymbolShare& b) { return a.samples > b.samples; });
  return summary;
}

PerfSummary report_perf_data(const std::filesystem::path& perf, const std::filesystem::path& data,
                             const std::filesystem::path& kallsyms) {
  std::vector<std::string> argv = {perf.string(), "report", "-i", data.string(), "--stdio", "--no-children",
                                   "--sort", "sym,dso", "-n", "-t", "|", "-q", "--percent-limit", "0"};
  if (!kallsyms.empty()) argv.push_back("--kallsyms=" + kallsyms.string());
  RunOptions options;
  options.timeout = std::chrono::minutes(5);
  ProcessResult result = run_process(argv, options);
  if (result.exit_status != 0 || result.timed_out) {
    throw std::runtime_error("perf report of " + data.string() + " failed (" +
                             (result.timed_out ? std::string{"timed out"}
                                               : "exit status " + std::to_string(result.exit_status)) +
                             "): " + last_line(result.stderr_text));
  }
  return parse_perf_report(result.stdout_text);
}

bool is_clear_page_symbol(const std::string& symbol) {
  return symbol.rfind("clear_page", 0) == 0 || symbol == "folio_zero_user" || symbol == "clear_huge_page" ||
         symbol.rfind("clear_user", 0) == 0 || symbol == "clear_subpage";
}

double clear_page_share(const PerfSummary& summary) {
  double share = 0;
  for (const SymbolShare& entry : summary.symbols) {
    if (entry.mode == 'k' && is_clear_page_symbol(entry.symbol)) share += entry.share;
  }
  return share;
}

nlohmann::ordered_json perf_summary_json(const PerfSummary& summary, const std::string& perf_data,
                                         std::size_t top) {
  nlohmann::ordered_json symbols = nlohmann::ordered_json::array();
  for (std::size_t i = 0; i < summary.symbols.size(); ++i) {
    const SymbolShare& entry = summary.symbols[i];
    bool clearing = entry.mode == 'k' && is_clear_page_symbol(entry.symbol);
    if (i >= top && !clearing) continue;
    symbols.push_back({{"symbol", entry.symbol},
                       {"dso", entry.dso},
                       {"kernel", entry.mode == 'k'},
                       {"samples", entry.samples},
                       {"share", entry.share}});
  }
  return {{"available", true},
          {"event", "cpu-clock"},
          {"samples", summary.samples},
          {"perf_data", perf_data},
          {"clear_page_share", clear_page_share(summary)},
          {"top_symbols", symbols}};
}

}  // namespace nozero::run

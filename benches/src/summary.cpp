#include "summary.h"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <regex>
#include <set>
#include <sstream>

namespace nozero::benches {
namespace {

using json = nlohmann::json;
using ojson = nlohmann::ordered_json;

// Reusing a cleared-before THP should be at least this many times faster than a
// fault that clears 2 MiB, when the owner cookie matches and under TCG emulation.
constexpr double kThpSpeedupTarget = 5.0;

// Fields of a Google Benchmark run that are bookkeeping, not measurements.
const std::set<std::string> kBookkeeping = {"family_index", "per_family_instance_index", "repetitions",
                                            "repetition_index", "threads", "iterations"};

std::map<std::string, double> numeric_fields(const json& run) {
  std::map<std::string, double> values;
  for (const auto& [key, value] : run.items()) {
    if (value.is_number() && !kBookkeeping.contains(key)) {
      values[key] = value.get<double>();
    }
  }
  return values;
}

BenchmarkValues mean_of(const std::vector<const json*>& runs) {
  BenchmarkValues result;
  for (const json* run : runs) {
    for (const auto& [key, value] : numeric_fields(*run)) {
      result.values[key] += value / static_cast<double>(runs.size());
    }
  }
  result.basis = runs.size() == 1 ? "1 run" : "mean of " + std::to_string(runs.size()) + " repetitions";
  result.label = runs.front()->value("label", "");
  return result;
}

std::string context_string(const BenchmarkFile& file, const std::string& key) {
  const auto entry = file.context.find(key);
  return entry != file.context.end() && entry->is_string() ? entry->get<std::string>() : "";
}

// The benchmarks of all files by name, with a reason for each that is missing.
class Merged {
 public:
  explicit Merged(const std::vector<BenchmarkFile>& files) {
    for (const BenchmarkFile& file : files) {
      for (const auto& [name, values] : file.benchmarks) {
        const auto [entry, inserted] = benchmarks_.emplace(name, values);
        if (!inserted) {
          throw InputError(file.path + ": benchmark '" + name + "' is also in " + origin_.at(name) +
                           "; pass one output file per benchmark binary");
        }
        origin_[name] = file.path;
      }
    }
  }

  const BenchmarkValues* find(const std::string& name) const {
    const auto entry = benchmarks_.find(name);
    return entry == benchmarks_.end() || entry->second.error ? nullptr : &entry->second;
  }

  std::optional<double> value(const std::string& name, const std::string& counter) const {
    const BenchmarkValues* benchmark = find(name);
    if (benchmark == nullptr) {
      return std::nullopt;
    }
    const auto entry = benchmark->values.find(counter);
    return entry == benchmark->values.end() ? std::nullopt : std::optional<double>(entry->second);
  }

  std::string missing_reason(const std::string& name) const {
    const auto entry = benchmarks_.find(name);
    if (entry == benchmarks_.end()) {
      return name + " is not in the input files";
    }
    return name + " did not run: " + entry->second.error.value_or("no error message");
  }

  std::size_t size() const { return benchmarks_.size(); }

 private:
  std::map<std::string, BenchmarkValues> benchmarks_;
  std::map<std::string, std::string> origin_;
};

ojson optional_number(std::optional<double> value) { return value ? ojson(*value) : ojson(nullptr); }

ojson missing(const std::string& reason) { return ojson{{"status", "missing"}, {"reason", reason}}; }

ojson fault_entry(const Merged& merged, const std::string& name, bool huge) {
  const BenchmarkValues* benchmark = merged.find(name);
  if (benchmark == nullptr) {
    return missing(merged.missing_reason(name));
  }
  ojson entry = {{"status", "measured"},
                 {"benchmark", name},
                 {"ns_per_page", optional_number(merged.value(name, "ns_per_page"))},
                 {"pages_per_s", optional_number(merged.value(name, "pages_per_s"))},
                 {"bytes_per_s", optional_number(merged.value(name, "bytes_per_second"))},
                 {"page_faults_per_iteration", optional_number(merged.value(name, "page_faults"))}};
  if (huge) {
    entry["ns_per_huge_page"] = optional_number(merged.value(name, "ns_per_huge_page"));
    entry["huge_page_share"] = optional_number(merged.value(name, "huge_page_share"));
  }
  entry["basis"] = benchmark->basis;
  entry["label"] = benchmark->label;
  return entry;
}

const char* const kClearMethods[] = {"memset", "rep_stosb", "movnti", "movntdq"};

ojson clear_section(const Merged& merged) {
  ojson section = ojson::object();
  std::optional<double> best;
  ojson best_entry = nullptr;
  for (const char* block : {"4k", "2m"}) {
    for (const char* warmth : {"hot", "cold"}) {
      ojson methods = ojson::object();
      for (const char* method : kClearMethods) {
        const std::string name = std::string("clear/") + method + "/" + block + "/" + warmth;
        const auto bytes = merged.value(name, "bytes_per_second");
        methods[method] = {{"ns_per_page", optional_number(merged.value(name, "ns_per_page"))},
                           {"bytes_per_s", optional_number(bytes)}};
        if (bytes && std::string_view(warmth) == "cold" && (!best || *bytes > *best)) {
          best = bytes;
          best_entry = {{"benchmark", name}, {"bytes_per_s", *bytes}};
        }
      }
      section[block][warmth] = methods;
    }
  }
  section["best_cold"] = best_entry;
  return section;
}

// The share of one fault that a user-space clear of the same memory costs, and the
// speed-up that removing a clear of that cost would give (Amdahl's law). The kernel's
// own clear can cost more, so the real gain can be larger.
ojson share_entry(const Merged& merged, const std::string& clear_name, const std::string& fault_name) {
  const auto clear_ns = merged.value(clear_name, "ns_per_page");
  const auto fault_ns = merged.value(fault_name, "ns_per_page");
  if (!clear_ns) {
    return missing(merged.missing_reason(clear_name));
  }
  if (!fault_ns) {
    return missing(merged.missing_reason(fault_name));
  }
  const double share = *clear_ns / *fault_ns;
  ojson entry = {{"status", "measured"},
                 {"clear", clear_name},
                 {"fault", fault_name},
                 {"clear_ns_per_page", *clear_ns},
                 {"fault_ns_per_page", *fault_ns},
                 {"share", share}};
  if (share < 1.0) {
    entry["speedup_without_clear"] = 1.0 / (1.0 - share);
  } else {
    entry["speedup_without_clear"] = nullptr;
    entry["note"] = "the clear takes longer than the whole fault: the two measurements are not comparable";
  }
  return entry;
}

ojson physical_limit(const Merged& merged, const ojson& clear) {
  ojson entry = {{"clear_best_cold", clear["best_cold"]}};
  for (const char* fault : {"fault_4k/baseline", "fault_thp/baseline"}) {
    const auto bytes = merged.value(fault, "bytes_per_second");
    entry[fault] = {{"bytes_per_s", optional_number(bytes)}};
    if (bytes && clear["best_cold"].is_object()) {
      entry[fault]["clear_bandwidth_ratio"] = clear["best_cold"]["bytes_per_s"].get<double>() / *bytes;
    }
  }
  return entry;
}

// Collects the reuse benchmarks without MAP_NOZERO, which show what user space can
// do without the kernel series: give memory back inside one mapping and write it again.
ojson reuse_section(const Merged& merged) {
  ojson section = ojson::object();
  for (const char* size : {"4k", "thp"}) {
    for (const char* advice : {"dontneed", "free"}) {
      const std::string name = std::string("reuse_") + size + "/" + advice + "/baseline";
      section[size][advice] = fault_entry(merged, name, false);
    }
  }
  return section;
}

// MAP_NOZERO against the same benchmark without it. reuse_share is the share of the
// nozero arm's faults that the kernel's vmstat counters report as not cleared.
ojson nozero_entry(const Merged& merged, const std::string& baseline, const std::string& nozero,
                   const std::string& reuse_counter, const std::string& clear_counter, bool with_target) {
  const auto nozero_ns = merged.value(nozero, "ns_per_page");
  const auto baseline_ns = merged.value(baseline, "ns_per_page");
  ojson entry;
  if (!nozero_ns) {
    entry = {{"status", "not measured"}, {"reason", merged.missing_reason(nozero)}};
  } else if (!baseline_ns) {
    entry = {{"status", "not measured"}, {"reason", merged.missing_reason(baseline)}};
  } else {
    entry = {{"status", "measured"},
             {"baseline_ns_per_page", *baseline_ns},
             {"nozero_ns_per_page", *nozero_ns},
             {"speedup", *baseline_ns / *nozero_ns},
             // Measured on a patched kernel, this is the share of the fault that
             // clearing cost, to compare with clear_share_of_fault.
             {"removed_share", 1.0 - *nozero_ns / *baseline_ns}};
    const auto reused = merged.value(nozero, "vmstat_" + reuse_counter);
    const auto cleared = merged.value(nozero, "vmstat_" + clear_counter);
    if (reused && cleared && *reused + *cleared > 0) {
      entry["reuse_share"] = *reused / (*reused + *cleared);
    } else {
      entry["reuse_share"] = nullptr;
    }
  }
  if (with_target) {
    entry["target_speedup"] = kThpSpeedupTarget;
    entry["target_met"] = entry.contains("speedup") ? ojson(entry["speedup"].get<double>() >= kThpSpeedupTarget)
                                                    : ojson(nullptr);
  }
  return entry;
}

ojson nozero_section(const Merged& merged) {
  return {{"fault_4k", nozero_entry(merged, "fault_4k/baseline", "fault_4k/nozero", "nozero_reuse",
                                    "nozero_clear", false)},
          {"reuse_4k_dontneed", nozero_entry(merged, "reuse_4k/dontneed/baseline", "reuse_4k/dontneed/nozero",
                                             "nozero_reuse", "nozero_clear", false)},
          {"fault_thp", nozero_entry(merged, "fault_thp/baseline", "fault_thp/nozero", "nozero_thp_reuse",
                                     "nozero_thp_clear", true)},
          {"reuse_thp_dontneed",
           nozero_entry(merged, "reuse_thp/dontneed/baseline", "reuse_thp/dontneed/nozero", "nozero_thp_reuse",
                        "nozero_thp_clear", true)}};
}

}  // namespace

BenchmarkFile parse_benchmark_file(const std::string& path, const std::string& text) {
  // Google Benchmark writes NaN and Infinity as bare words, which JSON does not
  // allow: a coefficient of variation over a counter whose mean is 0 is NaN. They
  // become null, which the summary treats as a missing value.
  static const std::regex kNonFinite(R"((:\s*)-?(NaN|Infinity)(\s*[,}\n]))");
  json document;
  try {
    document = json::parse(std::regex_replace(text, kNonFinite, "$1null$3"));
  } catch (const json::parse_error& error) {
    throw InputError(path + ": invalid JSON: " + error.what());
  }
  if (!document.is_object() || !document.contains("context") || !document["context"].is_object() ||
      !document.contains("benchmarks") || !document["benchmarks"].is_array()) {
    throw InputError(path +
                     ": not Google Benchmark JSON output (expected 'context' and 'benchmarks'); write it with "
                     "--benchmark_out=FILE or --benchmark_format=json");
  }

  BenchmarkFile file{path, document["context"], {}};
  std::map<std::string, std::vector<const json*>> iterations;
  std::map<std::string, const json*> medians;
  std::map<std::string, std::string> errors;
  for (const json& run : document["benchmarks"]) {
    const std::string name = run.value("run_name", run.value("name", ""));
    if (name.empty()) {
      throw InputError(path + ": a benchmark entry has neither 'run_name' nor 'name'");
    }
    if (run.value("run_type", "iteration") == "aggregate") {
      if (run.value("aggregate_name", "") == "median") {
        medians[name] = &run;
      }
    } else if (run.value("error_occurred", false)) {
      errors[name] = run.value("error_message", "");
    } else {
      iterations[name].push_back(&run);
    }
  }

  for (const auto& [name, runs] : iterations) {
    const auto median = medians.find(name);
    if (median == medians.end()) {
      file.benchmarks[name] = mean_of(runs);
      continue;
    }
    BenchmarkValues values;
    values.values = numeric_fields(*median->second);
    values.basis = "median of " + std::to_string(runs.size()) + " repetitions";
    values.label = runs.front()->value("label", "");
    file.benchmarks[name] = values;
  }
  for (const auto& [name, message] : errors) {
    if (!file.benchmarks.contains(name)) {
      BenchmarkValues values;
      values.error = message;
      file.benchmarks[name] = values;
    }
  }
  return file;
}

BenchmarkFile load_benchmark_file(const std::string& path) {
  std::ifstream stream(path);
  if (!stream) {
    throw InputError(path + ": cannot open the file");
  }
  std::stringstream text;
  text << stream.rdbuf();
  return parse_benchmark_file(path, text.str());
}

ojson summarise(const std::vector<BenchmarkFile>& files) {
  if (files.empty()) {
    throw InputError("no input files: pass the JSON output of nzbench-fault and nzbench-clear");
  }
  const BenchmarkFile& first = files.front();
  for (const BenchmarkFile& file : files) {
    for (const char* key : {"measured_on", "kernel_release"}) {
      if (context_string(file, key) != context_string(first, key)) {
        throw InputError(file.path + ": context " + key + " is '" + context_string(file, key) + "' but " +
                         first.path + " has '" + context_string(first, key) +
                         "'; summarise the files of each machine and kernel separately");
      }
    }
  }

  const Merged merged(files);
  if (merged.find("fault_4k/baseline") == nullptr && merged.find("clear/rep_stosb/4k/cold") == nullptr &&
      merged.find("fault_thp/baseline") == nullptr) {
    throw InputError(first.path +
                     ": none of fault_4k/baseline, fault_thp/baseline or clear/rep_stosb/4k/cold has a result; "
                     "pass the output of nzbench-fault or nzbench-clear");
  }

  ojson summary = {{"schema", kSummarySchema}, {"schema_version", kSummarySchemaVersion}};
  summary["measured_on"] = context_string(first, "measured_on");
  summary["kernel_release"] = context_string(first, "kernel_release");
  summary["cpu_model"] = context_string(first, "cpu_model");
  summary["nozero_kernel_support"] = context_string(first, "nozero_kernel_support");
  summary["counter_mode"] = context_string(first, "counter_mode");
  summary["inputs"] = ojson::array();
  for (const BenchmarkFile& file : files) {
    summary["inputs"].push_back(file.path);
  }

  summary["fault"] = {{"4k", fault_entry(merged, "fault_4k/baseline", false)},
                      {"thp", fault_entry(merged, "fault_thp/baseline", true)}};
  summary["clear"] = clear_section(merged);
  // The kernel clears small pages with rep stosb (clear_page_erms) on CPUs with ERMS.
  summary["clear_share_of_fault"] = {
      {"4k", {{"hot", share_entry(merged, "clear/rep_stosb/4k/hot", "fault_4k/baseline")},
              {"cold", share_entry(merged, "clear/rep_stosb/4k/cold", "fault_4k/baseline")}}},
      {"thp", {{"hot", share_entry(merged, "clear/rep_stosb/2m/hot", "fault_thp/baseline")},
               {"cold", share_entry(merged, "clear/rep_stosb/2m/cold", "fault_thp/baseline")}}}};
  summary["physical_limit"] = physical_limit(merged, summary["clear"]);
  summary["reuse_without_nozero"] = reuse_section(merged);
  summary["nozero"] = nozero_section(merged);
  return summary;
}

namespace {

std::string fixed(double value, int digits) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(digits) << value;
  return text.str();
}

std::string gigabytes(const ojson& bytes) {
  return bytes.is_number() ? fixed(bytes.get<double>() / 1e9, 2) + " GB/s" : "n/a";
}

std::string nanoseconds(const ojson& value) { return value.is_number() ? fixed(value.get<double>(), 1) + " ns" : "n/a"; }

void format_fault(std::ostringstream& out, const char* title, const ojson& entry, const std::string& where) {
  out << "  " << title << ": ";
  if (entry["status"] != "measured") {
    out << entry["reason"].get<std::string>() << "\n";
    return;
  }
  out << nanoseconds(entry["ns_per_page"]) << " per 4 KiB page, " << gigabytes(entry["bytes_per_s"]);
  if (entry.contains("ns_per_huge_page")) {
    out << ", " << nanoseconds(entry["ns_per_huge_page"]) << " per 2 MiB page";
  }
  out << " [" << where << "]\n";
  if (!entry["label"].get<std::string>().empty()) {
    out << "    note: " << entry["label"].get<std::string>() << "\n";
  }
}

void format_share(std::ostringstream& out, const char* title, const ojson& entry) {
  out << "  " << title << ": ";
  if (entry["status"] != "measured") {
    out << entry["reason"].get<std::string>() << "\n";
    return;
  }
  out << nanoseconds(entry["clear_ns_per_page"]) << " of " << nanoseconds(entry["fault_ns_per_page"])
      << " per page = " << fixed(100.0 * entry["share"].get<double>(), 1) << "% of the fault";
  if (entry["speedup_without_clear"].is_number()) {
    out << ", removing a clear of that cost gives " << fixed(entry["speedup_without_clear"].get<double>(), 3)
        << "x";
  } else {
    out << " (" << entry["note"].get<std::string>() << ")";
  }
  out << "\n";
}

void format_nozero(std::ostringstream& out, const char* title, const ojson& entry) {
  out << "  " << title << ": ";
  if (entry["status"] != "measured") {
    out << "not measured: " << entry["reason"].get<std::string>() << "\n";
    return;
  }
  out << nanoseconds(entry["baseline_ns_per_page"]) << " -> " << nanoseconds(entry["nozero_ns_per_page"])
      << " per page, speed-up " << fixed(entry["speedup"].get<double>(), 2) << "x (removes "
      << fixed(100.0 * entry["removed_share"].get<double>(), 1) << "% of the fault)";
  if (entry["reuse_share"].is_number()) {
    out << ", " << fixed(100.0 * entry["reuse_share"].get<double>(), 1) << "% of faults not cleared";
  } else {
    out << ", reuse share unknown (no nozero vmstat counters)";
  }
  if (entry.contains("target_met")) {
    out << ", target " << fixed(entry["target_speedup"].get<double>(), 0) << "x "
        << (entry["target_met"].get<bool>() ? "met" : "NOT met");
  }
  out << "\n";
}

}  // namespace

std::string format_summary(const ojson& summary) {
  const std::string where = summary["measured_on"].get<std::string>();
  std::ostringstream out;
  out << "Microbenchmark summary, measured on " << where << " (kernel " << summary["kernel_release"].get<std::string>()
      << ", CPU " << summary["cpu_model"].get<std::string>() << ", MAP_NOZERO "
      << summary["nozero_kernel_support"].get<std::string>() << ", counters "
      << summary["counter_mode"].get<std::string>() << ")\n";

  out << "Fault-in (map, write one byte per 4 KiB page, unmap):\n";
  format_fault(out, "4 KiB pages", summary["fault"]["4k"], where);
  format_fault(out, "THP 2 MiB", summary["fault"]["thp"], where);

  out << "Clearing in user space, cold (256 MiB working set):\n";
  for (const char* block : {"4k", "2m"}) {
    for (const auto& [method, entry] : summary["clear"][block]["cold"].items()) {
      out << "  " << block << " " << method << ": " << nanoseconds(entry["ns_per_page"]) << " per 4 KiB, "
          << gigabytes(entry["bytes_per_s"]) << " [" << where << "]\n";
    }
  }

  out << "Share of a fault that a user-space clear costs (rep stosb, the loop of clear_page_erms):\n";
  format_share(out, "4 KiB, hot", summary["clear_share_of_fault"]["4k"]["hot"]);
  format_share(out, "4 KiB, cold", summary["clear_share_of_fault"]["4k"]["cold"]);
  format_share(out, "THP, hot", summary["clear_share_of_fault"]["thp"]["hot"]);
  format_share(out, "THP, cold", summary["clear_share_of_fault"]["thp"]["cold"]);

  const ojson& limit = summary["physical_limit"];
  out << "Physical limit: clearing ";
  if (limit["clear_best_cold"].is_object()) {
    out << gigabytes(limit["clear_best_cold"]["bytes_per_s"]) << " ("
        << limit["clear_best_cold"]["benchmark"].get<std::string>() << ")";
  } else {
    out << "n/a";
  }
  out << " vs fault-in " << gigabytes(limit["fault_4k/baseline"]["bytes_per_s"]) << " (4 KiB), "
      << gigabytes(limit["fault_thp/baseline"]["bytes_per_s"]) << " (THP) [" << where << "]\n";

  out << "Reuse without MAP_NOZERO (madvise, then write again):\n";
  for (const char* size : {"4k", "thp"}) {
    for (const char* advice : {"dontneed", "free"}) {
      const std::string title = std::string(size) + " MADV_" + (std::string_view(advice) == "free" ? "FREE" : "DONTNEED");
      format_fault(out, title.c_str(), summary["reuse_without_nozero"][size][advice], where);
    }
  }

  out << "MAP_NOZERO against the same benchmark without it [" << where << "]:\n";
  format_nozero(out, "fault 4 KiB", summary["nozero"]["fault_4k"]);
  format_nozero(out, "reuse 4 KiB MADV_DONTNEED", summary["nozero"]["reuse_4k_dontneed"]);
  format_nozero(out, "fault THP", summary["nozero"]["fault_thp"]);
  format_nozero(out, "reuse THP MADV_DONTNEED", summary["nozero"]["reuse_thp_dontneed"]);
  return out.str();
}

}  // namespace nozero::benches

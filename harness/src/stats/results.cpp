#include "stats/results.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <system_error>

#include "core/errors.h"

namespace nozero::stats {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kFix = "pass the results.json that `nozero-bench run` writes, or its result directory";

[[noreturn]] void fail(const fs::path& path, const std::string& message) {
  throw CommandError(path.string() + ": " + message);
}

std::string type_name(const json& value) { return value.is_null() ? "null" : value.type_name(); }

const json& member(const fs::path& path, const json& object, const std::string& pointer, const char* key) {
  const auto found = object.find(key);
  if (found == object.end()) {
    fail(path, pointer + "/" + key + " is missing; " + kFix);
  }
  return *found;
}

std::string string_member(const fs::path& path, const json& object, const std::string& pointer,
                          const char* key) {
  const json& value = member(path, object, pointer, key);
  if (!value.is_string()) {
    fail(path, pointer + "/" + key + " must be a string, found " + type_name(value));
  }
  return value.get<std::string>();
}

// A string member that may be absent or null; returns "" then.
std::string optional_string(const json& object, const char* key) {
  if (!object.is_object()) {
    return "";
  }
  const auto found = object.find(key);
  if (found == object.end() || !found->is_string()) {
    return "";
  }
  return found->get<std::string>();
}

json read_json(const fs::path& path) {
  std::error_code error;
  if (!fs::exists(path, error)) {
    fail(path, "file not found; " + std::string{kFix});
  }
  std::ifstream input(path, std::ios::binary);
  if (!input) {
    fail(path, "cannot be opened for reading; check its permissions");
  }
  std::stringstream buffer;
  buffer << input.rdbuf();
  const std::string text = buffer.str();
  if (text.empty()) {
    fail(path, "the file is empty; the run that wrote it may have been interrupted. " + std::string{kFix});
  }
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    std::string message = "not valid JSON at byte " + std::to_string(e.byte) + " of " +
                          std::to_string(text.size());
    if (e.byte >= text.size()) {
      message += " (the text ends early: the file is truncated, for example by an interrupted copy)";
    }
    fail(path, message + "; " + kFix);
  }
}

void check_schema(const fs::path& path, const json& document) {
  if (!document.is_object()) {
    fail(path, "the document is a JSON " + type_name(document) + ", not an object; " + kFix);
  }
  const auto schema = document.find("schema");
  if (schema == document.end() || !schema->is_string()) {
    fail(path, "no \"schema\" member: this is not a nozero-bench document; " + std::string{kFix});
  }
  const std::string name = schema->get<std::string>();
  if (name == "nozero-bench/workload") {
    fail(path, "this is the output of one workload program (schema nozero-bench/workload), "
               "not suite results; " + std::string{kFix});
  }
  if (name != kResultsSchema) {
    fail(path, "schema is \"" + name + "\", expected \"" + kResultsSchema + "\"; " + kFix);
  }
  const auto version = document.find("schema_version");
  if (version == document.end() || !version->is_number_integer()) {
    fail(path, "schema_version is missing or not an integer; " + std::string{kFix});
  }
  const int number = version->get<int>();
  if (number != kResultsSchemaVersion) {
    const std::string hint = number > kResultsSchemaVersion
                                 ? "it was written by a newer nozero-bench: use that version to read it"
                                 : "re-run the suite with this version";
    fail(path, "schema_version " + std::to_string(number) + " is not supported (this nozero-bench reads " +
                   std::to_string(kResultsSchemaVersion) + "); " + hint);
  }
}

Setup read_setup(const json& context) {
  Setup setup;
  const json& host = context.contains("host") ? context["host"] : json{};
  const json& guest = context.contains("guest") ? context["guest"] : json{};
  setup.cpu_model = optional_string(host, "cpu_model");
  setup.thp = optional_string(context, "thp");
  if (guest.is_object()) {
    setup.kernel_release = optional_string(guest, "kernel_release");
    setup.series_hash = optional_string(guest, "series_hash");
    setup.accelerator = optional_string(guest, "accelerator");
  } else {
    // Measured on the host: its kernel is the one under test and nothing emulates the CPU.
    setup.kernel_release = optional_string(host, "kernel_release");
    setup.accelerator = "none (host)";
  }
  return setup;
}

void add_value(const fs::path& path, const std::string& pointer, MetricSeries& series, const std::string& unit,
               Better better, double value, int repetition) {
  if (series.values.empty()) {
    series.unit = unit;
    series.better = better;
  } else if (series.unit != unit || series.better != better) {
    fail(path, pointer + ": unit \"" + unit + "\" or direction \"" + to_string(better) +
                   "\" differs from earlier runs of the same metric (\"" + series.unit + "\", \"" +
                   to_string(series.better) + "\"); the runs were written by different workload versions");
  }
  series.values.push_back(value);
  series.repetitions.push_back(repetition);
}

Better read_better(const fs::path& path, const std::string& pointer, const json& metric) {
  const std::string better = string_member(path, metric, pointer, "better");
  if (better == "higher") {
    return Better::higher;
  }
  if (better == "lower") {
    return Better::lower;
  }
  fail(path, pointer + "/better is \"" + better + "\", expected \"higher\" or \"lower\"");
}

void read_metrics(const fs::path& path, const std::string& pointer, const json& run,
                  std::map<std::string, MetricSeries>& arm, int repetition) {
  const json& metrics = member(path, run, pointer, "metrics");
  if (!metrics.is_object()) {
    fail(path, pointer + "/metrics must be an object, found " + type_name(metrics));
  }
  for (const auto& [name, metric] : metrics.items()) {
    const std::string where = pointer + "/metrics/" + name;
    if (!metric.is_object()) {
      fail(path, where + " must be an object with value, unit and better, found " + type_name(metric));
    }
    const json& value = member(path, metric, where, "value");
    if (!value.is_number()) {
      fail(path, where + "/value must be a number, found " + type_name(value));
    }
    const std::string unit = string_member(path, metric, where, "unit");
    add_value(path, where, arm[name], unit, read_better(path, where, metric), value.get<double>(), repetition);
    arm[name].headline = !is_derived_metric(name);
  }
}

// Metrics the report and the gate derive from the other sections of a run, when the
// run does not carry them in its metrics already (the suite runner adds them there).
void derive_metrics(const fs::path& path, const std::string& pointer, const json& run,
                    std::map<std::string, MetricSeries>& arm, int repetition) {
  const auto derive = [&](const char* name, const char* unit, Better better, double value) {
    if (run["metrics"].contains(name)) {
      return;
    }
    add_value(path, pointer, arm[name], unit, better, value, repetition);
    arm[name].headline = false;
  };

  if (run.contains("wall_s") && run["wall_s"].is_number()) {
    derive("wall_s", "s", Better::lower, run["wall_s"].get<double>());
  }

  const json& clear_page = run.contains("clear_page") ? run["clear_page"] : json{};
  if (clear_page.is_object() && clear_page.contains("functions") && clear_page["functions"].is_object()) {
    // Every entry counts calls; only the function profiler's entries also time them
    // (a kprobe entry has no total_us).
    double hits = 0;
    double total_us = 0;
    bool timed = false;
    for (const auto& [function, entry] : clear_page["functions"].items()) {
      const std::string where = pointer + "/clear_page/functions/" + function;
      if (!entry.is_object() || !entry.value("hits", json{}).is_number()) {
        fail(path, where + " needs a numeric hits");
      }
      hits += entry["hits"].get<double>();
      if (entry.contains("total_us")) {
        if (!entry["total_us"].is_number()) {
          fail(path, where + "/total_us must be a number, found " + type_name(entry["total_us"]));
        }
        total_us += entry["total_us"].get<double>();
        timed = true;
      }
    }
    derive("clear_page_hits", "calls", Better::lower, hits);
    if (timed) {
      derive("clear_page_us", "us", Better::lower, total_us);
    }
  }

  const json& vmstat = run.contains("vmstat_delta") ? run["vmstat_delta"] : json{};
  if (vmstat.is_object() && vmstat.value("nozero_reuse", json{}).is_number() &&
      vmstat.value("nozero_clear", json{}).is_number()) {
    const double reused = vmstat["nozero_reuse"].get<double>();
    const double cleared = vmstat["nozero_clear"].get<double>();
    // Only faults in VM_NOZERO mappings count, so an arm that never requested MAP_NOZERO has no rate.
    if (reused + cleared > 0) {
      derive("reused_rate", "fraction", Better::higher, reused / (reused + cleared));
    }
  }
}

void read_runs(LoadedResults& results) {
  const fs::path& path = results.path;
  const json& runs = member(path, results.document, "", "runs");
  if (!runs.is_array()) {
    fail(path, "/runs must be an array, found " + type_name(runs));
  }
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const json& run = runs[i];
    const std::string pointer = "/runs/" + std::to_string(i);
    if (!run.is_object()) {
      fail(path, pointer + " must be an object, found " + type_name(run));
    }
    const std::string workload = string_member(path, run, pointer, "workload");
    const std::string arm = string_member(path, run, pointer, "arm");
    const std::string status = string_member(path, run, pointer, "status");
    const json& repetition = member(path, run, pointer, "repetition");
    if (!repetition.is_number_integer()) {
      fail(path, pointer + "/repetition must be an integer, found " + type_name(repetition));
    }
    if (run.value("warmup", false)) {
      continue;
    }
    WorkloadResults& entry = results.workloads[workload];
    if (status != "ok") {
      if (status != "failed" && status != "timeout" && status != "missing") {
        fail(path, pointer + "/status is \"" + status + "\", expected ok, failed, timeout or missing");
      }
      entry.unfinished_runs[arm] += 1;
      entry.arms[arm];  // the arm exists even when none of its runs finished
      continue;
    }
    std::map<std::string, MetricSeries>& metrics = entry.arms[arm];
    read_metrics(path, pointer, run, metrics, repetition.get<int>());
    derive_metrics(path, pointer, run, metrics, repetition.get<int>());
  }
}

}  // namespace

std::string to_string(Better better) { return better == Better::higher ? "higher" : "lower"; }

bool is_derived_metric(const std::string& name) {
  // The suite runner's own additions to a run's metrics (harness/src/run/results.cpp)
  // are diagnostics too, not the workload's result.
  static const std::set<std::string> derived = {"wall_s",
                                                "clear_page_hits",
                                                "clear_page_us",
                                                "reused_rate",
                                                "clear_page_cpu_ms",
                                                "nozero_reuse_rate",
                                                "nozero_thp_reuse_rate",
                                                "nozero_reuse_per_fault"};
  return derived.contains(name);
}

LoadedResults load_results(const fs::path& file_or_directory) {
  std::error_code error;
  fs::path path = file_or_directory;
  if (fs::is_directory(path, error)) {
    path /= "results.json";
    if (!fs::exists(path, error)) {
      fail(file_or_directory, "directory has no results.json; pass a result directory written by "
                              "`nozero-bench run`, or the results file itself");
    }
  }

  LoadedResults results;
  results.path = path;
  results.document = read_json(path);
  check_schema(path, results.document);

  const json& context = member(path, results.document, "", "context");
  if (!context.is_object()) {
    fail(path, "/context must be an object, found " + type_name(context));
  }
  results.setup = read_setup(context);
  results.measured_on = optional_string(context, "measured_on");
  if (results.measured_on.empty()) {
    fail(path, "/context/measured_on is missing: every timing must say where it was measured "
               "(\"TCG guest\", \"KVM guest\" or \"host\")");
  }
  results.created_at = optional_string(context, "created_at");
  read_runs(results);
  return results;
}

LoadedResults merge_results(const std::vector<LoadedResults>& parts) {
  LoadedResults merged = parts.at(0);
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const LoadedResults& part = parts[i];
    merged.created_at = std::max(merged.created_at, part.created_at);
    for (const auto& [workload, results] : part.workloads) {
      WorkloadResults& target = merged.workloads[workload];
      for (const auto& [arm, count] : results.unfinished_runs) {
        target.unfinished_runs[arm] += count;
      }
      for (const auto& [arm, metrics] : results.arms) {
        for (const auto& [name, series] : metrics) {
          MetricSeries& into = target.arms[arm][name];
          if (into.values.empty()) {
            into = series;
            continue;
          }
          if (into.unit != series.unit || into.better != series.better) {
            fail(part.path, "metric " + name + " of " + workload + " has unit \"" + series.unit +
                                "\" here but \"" + into.unit + "\" in " + parts[0].path.string() +
                                "; merge only results of the same workload version");
          }
          into.values.insert(into.values.end(), series.values.begin(), series.values.end());
          into.repetitions.insert(into.repetitions.end(), series.repetitions.begin(), series.repetitions.end());
        }
      }
    }
  }
  return merged;
}

LoadedResults relative_results(const LoadedResults& results, const std::string& reference_arm) {
  LoadedResults relative = results;
  relative.workloads.clear();
  for (const auto& [workload, entry] : results.workloads) {
    const auto reference = entry.arms.find(reference_arm);
    if (reference == entry.arms.end()) {
      continue;
    }
    WorkloadResults& target = relative.workloads[workload];
    for (const auto& [arm, metrics] : entry.arms) {
      if (arm == reference_arm) {
        continue;
      }
      const std::string name = arm + "/" + reference_arm;
      target.arms[name];
      for (const auto& [metric, series] : metrics) {
        const auto reference_series = reference->second.find(metric);
        if (reference_series == reference->second.end()) {
          continue;
        }
        std::map<int, double> reference_values;
        for (std::size_t i = 0; i < reference_series->second.values.size(); ++i) {
          reference_values[reference_series->second.repetitions[i]] = reference_series->second.values[i];
        }
        MetricSeries ratios;
        ratios.unit = "ratio to " + reference_arm;
        ratios.better = series.better;
        ratios.headline = series.headline;
        for (std::size_t i = 0; i < series.values.size(); ++i) {
          const auto match = reference_values.find(series.repetitions[i]);
          if (match != reference_values.end() && match->second != 0) {
            ratios.values.push_back(series.values[i] / match->second);
            ratios.repetitions.push_back(series.repetitions[i]);
          }
        }
        if (!ratios.values.empty()) {
          target.arms[name][metric] = std::move(ratios);
        }
      }
    }
  }
  if (relative.workloads.empty()) {
    fail(results.path, "no workload has the arm \"" + reference_arm + "\" to take ratios to; name an arm the "
                       "suite ran, usually baseline");
  }
  return relative;
}

std::vector<SetupDifference> compare_setup(const Setup& left, const Setup& right) {
  std::vector<SetupDifference> differences;
  const auto check = [&](const char* field, const std::string& a, const std::string& b) {
    if (a != b) {
      differences.push_back({field, a.empty() ? "(not recorded)" : a, b.empty() ? "(not recorded)" : b});
    }
  };
  check("guest.kernel_release", left.kernel_release, right.kernel_release);
  check("guest.series_hash", left.series_hash, right.series_hash);
  check("thp", left.thp, right.thp);
  check("guest.accelerator", left.accelerator, right.accelerator);
  check("host.cpu_model", left.cpu_model, right.cpu_model);
  return differences;
}

std::string describe_differences(const std::vector<SetupDifference>& differences) {
  std::string text;
  for (const SetupDifference& difference : differences) {
    text += "  " + difference.field + ": " + difference.left + " vs " + difference.right + "\n";
  }
  return text;
}

std::vector<std::string> metric_names(const LoadedResults& results) {
  std::set<std::string> names;
  for (const auto& [workload, entry] : results.workloads) {
    for (const auto& [arm, metrics] : entry.arms) {
      for (const auto& [name, series] : metrics) {
        names.insert(name);
      }
    }
  }
  return {names.begin(), names.end()};
}

}  // namespace nozero::stats

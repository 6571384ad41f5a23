#include "stats/report_data.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <map>
#include <set>

#include "core/errors.h"
#include "stats/format.h"
#include "stats/serialize.h"

namespace nozero::stats {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using nlohmann::ordered_json;

// Per-run sections of one workload and arm that the report shows beside the metrics.
struct ArmDetails {
  std::string clear_page_source;
  std::map<std::string, std::vector<double>> clear_page_hits;  // per function, per run
  std::map<std::string, std::vector<double>> clear_page_us;
  std::string perf_event;
  std::size_t perf_runs = 0;
  std::map<std::string, double> symbol_share_sum;  // summed over runs
  std::map<std::string, std::string> symbol_dso;
  std::map<std::string, std::vector<double>> vmstat;  // counter -> per-run deltas
  std::vector<json> leak_checks;
  std::vector<std::string> hw_counter_notes;
};

using DetailMap = std::map<std::string, std::map<std::string, ArmDetails>>;  // workload -> arm

const json& child(const json& object, const char* key) {
  static const json null_value;
  if (!object.is_object()) {
    return null_value;
  }
  const auto found = object.find(key);
  return found == object.end() ? null_value : *found;
}

void collect_run(const json& run, ArmDetails& details) {
  const json& clear_page = child(run, "clear_page");
  if (clear_page.is_object()) {
    details.clear_page_source = clear_page.value("source", details.clear_page_source);
    for (const auto& [function, entry] : child(clear_page, "functions").items()) {
      details.clear_page_hits[function].push_back(child(entry, "hits").is_number() ? entry["hits"].get<double>() : 0);
      details.clear_page_us[function].push_back(child(entry, "total_us").is_number() ? entry["total_us"].get<double>()
                                                                                      : 0);
    }
  }

  const json& perf = child(run, "perf");
  if (perf.is_object() && child(perf, "top_symbols").is_array()) {
    details.perf_event = perf.value("event", details.perf_event);
    details.perf_runs += 1;
    for (const json& symbol : perf["top_symbols"]) {
      if (!child(symbol, "symbol").is_string() || !child(symbol, "share").is_number()) {
        continue;
      }
      const std::string name = symbol["symbol"].get<std::string>();
      details.symbol_share_sum[name] += symbol["share"].get<double>();
      details.symbol_dso[name] = symbol.value("dso", "");
    }
  }

  for (const auto& [counter, value] : child(run, "vmstat_delta").items()) {
    if (value.is_number()) {
      details.vmstat[counter].push_back(value.get<double>());
    }
  }

  const json& leak = child(run, "leak_check");
  if (leak.is_object()) {
    details.leak_checks.push_back(leak);
  }

  const json& counters = child(run, "hw_counters");
  if (counters.is_object() && !counters.value("available", true)) {
    details.hw_counter_notes.push_back(counters.value("reason", "hardware counters not available"));
  }
}

DetailMap collect_details(const std::vector<LoadedResults>& sources) {
  DetailMap details;
  for (const LoadedResults& source : sources) {
    for (const json& run : source.document["runs"]) {
      if (run.value("warmup", false) || run.value("status", "") != "ok") {
        continue;
      }
      collect_run(run, details[run["workload"].get<std::string>()][run["arm"].get<std::string>()]);
    }
  }
  return details;
}

double median_or_zero(const std::vector<double>& values) { return values.empty() ? 0.0 : median(values); }

ordered_json arm_details_json(const ArmDetails& details) {
  ordered_json out;

  ordered_json functions = ordered_json::object();
  std::vector<double> total_hits;
  std::vector<double> total_us;
  for (const auto& [function, hits] : details.clear_page_hits) {
    const std::vector<double>& us = details.clear_page_us.at(function);
    functions[function] = {{"hits", hits}, {"total_us", us}, {"hits_median", median(hits)}, {"total_us_median", median(us)}};
    total_hits.resize(std::max(total_hits.size(), hits.size()), 0.0);
    total_us.resize(std::max(total_us.size(), us.size()), 0.0);
    for (std::size_t i = 0; i < hits.size(); ++i) {
      total_hits[i] += hits[i];
      total_us[i] += us[i];
    }
  }
  out["clear_page"] = details.clear_page_hits.empty()
                          ? ordered_json(nullptr)
                          : ordered_json{{"source", details.clear_page_source},
                                         {"functions", functions},
                                         {"hits", total_hits},
                                         {"total_us", total_us}};

  ordered_json symbols = ordered_json::array();
  for (const auto& [name, sum] : details.symbol_share_sum) {
    symbols.push_back({{"symbol", name},
                       {"dso", details.symbol_dso.at(name)},
                       {"share", sum / static_cast<double>(details.perf_runs)}});
  }
  std::sort(symbols.begin(), symbols.end(),
            [](const ordered_json& a, const ordered_json& b) { return a["share"].get<double>() > b["share"].get<double>(); });
  out["perf"] = details.perf_runs == 0
                    ? ordered_json(nullptr)
                    : ordered_json{{"event", details.perf_event}, {"runs", details.perf_runs}, {"top_symbols", symbols}};

  ordered_json vmstat = ordered_json::object();
  for (const auto& [counter, values] : details.vmstat) {
    vmstat[counter] = {{"median", median_or_zero(values)}, {"values", values}};
  }
  out["vmstat_delta"] = vmstat;

  if (details.leak_checks.empty()) {
    out["leak_check"] = nullptr;
  } else {
    double scanned = 0;
    double nonzero = 0;
    for (const json& check : details.leak_checks) {
      scanned += check.value("pages_scanned", 0.0);
      nonzero += check.value("nonzero_pages", 0.0);
    }
    out["leak_check"] = {{"tool", details.leak_checks.front().value("tool", "")},
                         {"runs", details.leak_checks.size()},
                         {"pages_scanned", scanned},
                         {"nonzero_pages", nonzero},
                         {"passed", nonzero == 0}};
  }
  out["hw_counters_unavailable"] = details.hw_counter_notes.empty() ? ordered_json(nullptr)
                                                                    : ordered_json(details.hw_counter_notes.front());
  return out;
}

ordered_json metric_json(const MetricSeries& series) {
  ordered_json outliers = ordered_json::array();
  const std::vector<double> scores = modified_z_scores(series.values);
  for (std::size_t i = 0; i < scores.size(); ++i) {
    if (std::fabs(scores[i]) > kOutlierZ) {
      outliers.push_back({{"repetition", series.repetitions[i]}, {"value", series.values[i]}, {"z", scores[i]}});
    }
  }
  return {{"unit", series.unit},
          {"better", to_string(series.better)},
          {"headline", series.headline},
          {"values", series.values},
          {"repetitions", series.repetitions},
          {"summary", to_json(summarize(series.values))},
          {"outliers", outliers}};
}

// Flattens the context into "a.b" rows, leaving out the run order (one entry per run).
void flatten(const json& value, const std::string& prefix, ordered_json& rows) {
  if (value.is_object()) {
    for (const auto& [key, member] : value.items()) {
      if (prefix.empty() && key == "order") {
        continue;
      }
      flatten(member, prefix.empty() ? key : prefix + "." + key, rows);
    }
    return;
  }
  rows.push_back({{"name", prefix}, {"value", value.is_string() ? value.get<std::string>() : value.dump()}});
}

std::string percent(double fraction) { return format_double("%.1f%%", 100 * fraction); }

ordered_json caveats(const LoadedResults& first, const DetailMap& details, const ReportOptions& options) {
  ordered_json notes = ordered_json::array();
  const json& context = first.document["context"];
  const json& guest = child(context, "guest");

  if (first.measured_on.find("TCG") != std::string::npos) {
    std::string note = "Timings were measured in a TCG guest: QEMU emulates the CPU, so these are not hardware "
                       "timings and clearing a page costs more, relative to the rest of the work, than on hardware. "
                       "Ratios between arms show the direction of an effect, not its size on real CPUs.";
    const std::string reason = child(guest, "accelerator_reason").is_string() ? guest["accelerator_reason"].get<std::string>() : "";
    if (!reason.empty()) {
      note += " Why TCG: " + reason + ".";
    }
    notes.push_back(note);
  }

  // The share of clear_page in the baseline profile, from these results.
  for (const auto& [workload, arms] : details) {
    const auto baseline = arms.find("baseline");
    if (baseline == arms.end() || baseline->second.perf_runs == 0) {
      continue;
    }
    double share = 0;
    for (const auto& [symbol, sum] : baseline->second.symbol_share_sum) {
      if (symbol.rfind("clear_page", 0) == 0) {
        share += sum / static_cast<double>(baseline->second.perf_runs);
      }
    }
    notes.push_back(workload + ": clear_page* functions take " + percent(share) + " of " +
                    baseline->second.perf_event + " samples in the baseline arm (" + first.measured_on +
                    "); the gain MAP_NOZERO can give is bounded by that share.");
  }

  const json& pmu = child(context, "pmu");
  if (pmu.is_object() && !pmu.value("available", true)) {
    notes.push_back("No hardware PMU: " + pmu.value("reason", std::string{"not recorded why"}) +
                    ". Cycle and instruction counts are missing, and profiles use a software clock event.");
  }

  const json& projection = child(first.document, "projection");
  if (projection.is_null()) {
    notes.push_back("No projection to hardware timings: these results carry only " + first.measured_on +
                    " measurements.");
  } else if (!projection.value("available", true)) {
    notes.push_back("No projection to hardware timings: " +
                    projection.value("reason", std::string{"the results do not say why"}) + ".");
  } else {
    // The scalar members are the projection's inputs; its per-workload rows are its output.
    std::string inputs;
    for (const auto& [key, value] : projection.items()) {
      if (value.is_primitive() && key != "kind" && key != "available") {
        inputs += (inputs.empty() ? "" : "; ") + key + " = " + (value.is_string() ? value.get<std::string>() : value.dump());
      }
    }
    notes.push_back("The projection to hardware is an estimate, not a measurement. Its inputs: " + inputs + ".");
  }

  // Sections the runner could not measure, once per reason.
  std::set<std::string> missing;
  for (const json& run : first.document["runs"]) {
    for (const char* section : {"clear_page", "perf"}) {
      const json& block = child(run, section);
      if (block.is_object() && !block.value("available", true)) {
        missing.insert(std::string{section == std::string{"perf"} ? "The perf profile" : "clear_page time"} +
                       " was not measured: " + block.value("reason", std::string{"no reason recorded"}) + ".");
      }
    }
  }
  for (const std::string& note : missing) {
    notes.push_back(note);
  }

  for (const SetupDifference& difference : options.forced_differences) {
    notes.push_back("The pooled results differ in " + difference.field + " (" + difference.left + " vs " +
                    difference.right + "); they were combined with --force.");
  }
  return notes;
}

}  // namespace

std::string utc_now() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm parts{};
  gmtime_r(&now, &parts);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return buffer;
}

ordered_json build_report(const std::vector<LoadedResults>& sources, const ReportOptions& options) {
  const LoadedResults merged = merge_results(sources);
  const LoadedResults& first = sources.front();
  const DetailMap details = collect_details(sources);

  CompareOptions compare;
  compare.alpha = options.alpha;
  compare.cv_warning = options.cv_warning;
  compare.resamples = options.resamples;
  compare.seed = options.seed;
  compare.warn_per_series = false;  // once per series below, not once per comparison

  ordered_json warnings = ordered_json::array();
  ordered_json workloads = ordered_json::array();
  ordered_json headline = ordered_json::array();
  for (const auto& [name, entry] : merged.workloads) {
    ordered_json workload = {{"name", name}, {"measured_on", merged.measured_on}};

    ordered_json arms = ordered_json::object();
    for (const auto& [arm, metrics] : entry.arms) {
      ordered_json metric_entries = ordered_json::object();
      for (const auto& [metric, series] : metrics) {
        metric_entries[metric] = metric_json(series);
        // Derived metrics show their outliers in the tables only, to keep the warnings short.
        if (series.headline && !series.values.empty()) {
          for (const std::string& warning : series_warnings(series, compare, name + "/" + arm + " " + metric, arm)) {
            warnings.push_back(warning);
          }
        }
      }
      ordered_json arm_entry = {{"metrics", metric_entries}};
      const auto unfinished = entry.unfinished_runs.find(arm);
      arm_entry["unfinished_runs"] = unfinished == entry.unfinished_runs.end() ? 0 : unfinished->second;
      if (arm_entry["unfinished_runs"].get<int>() > 0) {
        warnings.push_back(name + "/" + arm + ": " + std::to_string(unfinished->second) +
                           " run(s) did not finish and are left out; resume the suite to measure them");
      }
      const auto workload_details = details.find(name);
      if (workload_details != details.end() && workload_details->second.contains(arm)) {
        arm_entry.update(arm_details_json(workload_details->second.at(arm)));
      }
      arms[arm] = arm_entry;
    }
    workload["arms"] = arms;

    ordered_json comparisons = ordered_json::array();
    std::set<std::string> too_few;  // one warning per arm, not per metric
    const auto baseline = entry.arms.find("baseline");
    if (baseline == entry.arms.end()) {
      warnings.push_back(name + ": no baseline arm, so no arm is compared; run the suite with the baseline arm");
    } else {
      for (const auto& [arm, metrics] : entry.arms) {
        if (arm == "baseline") {
          continue;
        }
        for (const auto& [metric, series] : metrics) {
          const auto base_series = baseline->second.find(metric);
          if (base_series == baseline->second.end() || series.values.empty() || base_series->second.values.empty()) {
            continue;
          }
          Comparison comparison = compare_series(base_series->second, series, compare,
                                                 name + " " + metric + " (" + arm + " vs baseline)", "baseline", arm);
          comparison.workload = name;
          comparison.arm = arm;
          comparison.metric = metric;
          const double floor = min_two_sided_p(comparison.baseline.n, comparison.candidate.n);
          if (floor >= options.alpha) {
            too_few.insert(name + ": " + std::to_string(comparison.baseline.n) + " repetitions in baseline and " +
                           std::to_string(comparison.candidate.n) + " in " + arm + " cannot reach p < " +
                           format_double("%g", options.alpha) + " (the smallest possible p is " +
                           format_double("%.3f", floor) + "), so no change can be significant; run at least " +
                           std::to_string(min_repetitions_for(options.alpha)) + " repetitions per arm");
          }
          for (const std::string& warning : comparison.warnings) {
            warnings.push_back(warning);
          }
          ordered_json row = to_json(comparison);
          row["baseline_arm"] = "baseline";
          if (comparison.headline) {
            headline.push_back({{"workload", name},
                                {"metric", metric},
                                {"arm", arm},
                                {"unit", comparison.unit},
                                {"better", to_string(comparison.better)},
                                {"baseline_median", comparison.baseline.median},
                                {"median", comparison.candidate.median},
                                {"ratio", comparison.ratio.ratio},
                                {"low", comparison.ratio.low},
                                {"high", comparison.ratio.high},
                                {"p_value", comparison.test.p_value},
                                {"verdict", to_string(comparison.verdict)}});
          }
          comparisons.push_back(row);
        }
      }
    }
    for (const std::string& warning : too_few) {
      warnings.push_back(warning);
    }
    workload["comparisons"] = comparisons;
    workloads.push_back(workload);
  }

  ordered_json source_list = ordered_json::array();
  for (const LoadedResults& source : sources) {
    source_list.push_back({{"path", fs::absolute(source.path).string()},
                           {"created_at", source.created_at},
                           {"measured_on", source.measured_on}});
  }
  ordered_json setup = ordered_json::array();
  flatten(first.document["context"], "", setup);

  return {{"schema", kReportSchema},
          {"schema_version", kReportSchemaVersion},
          {"generated_at", options.generated_at},
          {"created_at", merged.created_at},
          {"measured_on", merged.measured_on},
          {"kernel_release", first.setup.kernel_release},
          {"accelerator", first.setup.accelerator},
          {"statistics",
           {{"alpha", options.alpha},
            {"test", "Mann-Whitney U, two-sided; exact permutation p-value (ties included) when both arms "
                     "together have at most " + std::to_string(kExactMaxTotal) +
                     " repetitions, normal approximation with tie and continuity correction above"},
            {"interval", "95% percentile bootstrap of median(arm) / median(baseline), " +
                             std::to_string(options.resamples) + " resamples, seed " + std::to_string(options.seed)},
            {"outliers", "modified z-score (Iglewicz-Hoaglin) beyond 3.5; outliers are shown, not removed"},
            {"cv_warning", options.cv_warning}}},
          {"sources", source_list},
          {"setup", setup},
          {"caveats", caveats(first, details, options)},
          {"warnings", warnings},
          {"headline", headline},
          {"projection", ordered_json::parse(child(first.document, "projection").dump())},
          {"workloads", workloads}};
}

ordered_json build_index(const fs::path& dir, const std::string& generated_at) {
  std::error_code error;
  if (!fs::is_directory(dir, error)) {
    throw CommandError(dir.string() + ": not a directory; pass the directory that holds the report directories "
                                      "written by `nozero-bench report --out`");
  }
  std::vector<fs::path> report_dirs;
  for (const fs::directory_entry& entry : fs::directory_iterator(dir)) {
    if (entry.is_directory() && fs::exists(entry.path() / "report.json")) {
      report_dirs.push_back(entry.path());
    }
  }
  if (report_dirs.empty()) {
    throw CommandError(dir.string() + ": no report directories (DIR/NAME/report.json) found; write reports with "
                                      "`nozero-bench report RESULTS --out " + (dir / "NAME").string() + "` first");
  }

  ordered_json entries = ordered_json::array();
  for (const fs::path& report_dir : report_dirs) {
    const fs::path path = report_dir / "report.json";
    std::ifstream input(path);
    ordered_json report;
    try {
      report = ordered_json::parse(input);
    } catch (const ordered_json::parse_error& e) {
      throw CommandError(path.string() + ": not valid JSON at byte " + std::to_string(e.byte) +
                         "; regenerate it with `nozero-bench report` or remove that directory");
    }
    if (!report.is_object() || report.value("schema", "") != kReportSchema) {
      throw CommandError(path.string() + ": not a nozero-bench report (schema \"" + kReportSchema +
                         "\" expected); regenerate it with `nozero-bench report` or remove that directory");
    }
    if (report.value("schema_version", 0) != kReportSchemaVersion) {
      throw CommandError(path.string() + ": report schema_version " + report.value("schema_version", ordered_json{}).dump() +
                         " is not supported (this nozero-bench reads " + std::to_string(kReportSchemaVersion) +
                         "); regenerate it with this version");
    }
    entries.push_back({{"dir", report_dir.filename().string()},
                       {"html", report_dir.filename().string() + "/report.html"},
                       {"created_at", report.value("created_at", "")},
                       {"generated_at", report.value("generated_at", "")},
                       {"measured_on", report.value("measured_on", "")},
                       {"kernel_release", report.value("kernel_release", "")},
                       {"accelerator", report.value("accelerator", "")},
                       {"warnings", report.contains("warnings") ? report["warnings"].size() : 0},
                       {"headline", report.value("headline", ordered_json::array())}});
  }
  std::sort(entries.begin(), entries.end(), [](const ordered_json& a, const ordered_json& b) {
    const auto key = [](const ordered_json& entry) {
      return std::make_pair(entry["created_at"].get<std::string>(), entry["dir"].get<std::string>());
    };
    return key(a) > key(b);
  });
  return {{"schema", kIndexSchema}, {"schema_version", 1}, {"generated_at", generated_at}, {"reports", entries}};
}

}  // namespace nozero::stats

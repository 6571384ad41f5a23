#include "run/summary.h"

#include <cstdio>
#include <iomanip>
#include <map>
#include <sstream>
#include <vector>

#include "stats/statistics.h"

namespace nozero::run {

namespace {

const std::vector<std::string> kArmOrder = {"baseline", "nozero", "unpatched"};

struct ArmNumbers {
  std::vector<double> metric;
  std::vector<double> reused_rate;
  std::vector<double> clear_page_hits;
  std::vector<double> clear_page_share;
  std::size_t total = 0;
  std::size_t ok = 0;
  long long leaks = 0;
  std::size_t leak_checks = 0;
};

struct WorkloadNumbers {
  std::string metric;
  std::string unit;
  std::string better;
  std::map<std::string, ArmNumbers> arms;
};

std::string format_number(double value) {
  char text[32];
  double magnitude = value < 0 ? -value : value;
  if (magnitude >= 1000 || value == static_cast<double>(static_cast<long long>(value))) {
    std::snprintf(text, sizeof text, "%.0f", value);
  } else if (magnitude >= 100) {
    std::snprintf(text, sizeof text, "%.1f", value);
  } else {
    std::snprintf(text, sizeof text, "%.3g", value);
  }
  return text;
}

std::string percent(double ratio) {
  char text[16];
  std::snprintf(text, sizeof text, "%.1f%%", ratio * 100);
  return text;
}

std::optional<double> metric_value(const nlohmann::json& run, const std::string& name) {
  const nlohmann::json metrics = run.value("metrics", nlohmann::json::object());
  if (!metrics.contains(name)) return std::nullopt;
  const nlohmann::json& entry = metrics[name];
  if (entry.is_object() && entry.contains("value") && entry["value"].is_number()) return entry["value"].get<double>();
  if (entry.is_number()) return entry.get<double>();
  return std::nullopt;
}

// The metric the summary compares: the workload's headline ("metric" in the suite
// recorded at the first run), else records_per_s, else wall_s.
std::string headline_metric(const nlohmann::json& run) {
  for (const char* name : {"records_per_s", "wall_s"}) {
    if (metric_value(run, name)) return name;
  }
  return "wall_s";
}

std::map<std::string, WorkloadNumbers> collect(const nlohmann::json& results, std::vector<std::string>& order) {
  std::map<std::string, WorkloadNumbers> workloads;
  const nlohmann::json headlines = results["context"].value("headline_metrics", nlohmann::json::object());
  for (const nlohmann::json& run : results.value("runs", nlohmann::json::array())) {
    if (run.value("warmup", false)) continue;
    std::string name = run.value("workload", "");
    std::string arm = run.value("arm", "");
    if (!workloads.count(name)) order.push_back(name);
    WorkloadNumbers& numbers = workloads[name];
    ArmNumbers& arm_numbers = numbers.arms[arm];
    ++arm_numbers.total;
    if (run.value("status", "") != "ok") continue;
    ++arm_numbers.ok;
    if (numbers.metric.empty()) {
      numbers.metric = headlines.value(name, headline_metric(run));
      const nlohmann::json& entry = run["metrics"].value(numbers.metric, nlohmann::json::object());
      numbers.unit = entry.value("unit", "");
      numbers.better = entry.value("better", "");
    }
    if (auto value = metric_value(run, numbers.metric)) arm_numbers.metric.push_back(*value);
    if (auto rate = metric_value(run, "nozero_reuse_rate")) {
      arm_numbers.reused_rate.push_back(*rate);
    } else if (auto thp_rate = metric_value(run, "nozero_thp_reuse_rate")) {
      arm_numbers.reused_rate.push_back(*thp_rate);
    }
    if (auto hits = metric_value(run, "clear_page_hits")) arm_numbers.clear_page_hits.push_back(*hits);
    const nlohmann::json perf = run.value("perf", nlohmann::json());
    if (perf.is_object() && perf.contains("clear_page_share") && perf["clear_page_share"].is_number()) {
      arm_numbers.clear_page_share.push_back(perf["clear_page_share"].get<double>());
    }
    const nlohmann::json leak = run.value("leak_check", nlohmann::json());
    if (leak.is_object() && leak.contains("nonzero_pages") && leak["nonzero_pages"].is_number()) {
      arm_numbers.leaks += leak["nonzero_pages"].get<long long>();
      ++arm_numbers.leak_checks;
    }
  }
  return workloads;
}

std::string median_text(const std::vector<double>& values) {
  return values.empty() ? "-" : format_number(stats::median(values));
}

std::string headline(const nlohmann::json& context) {
  std::string measured_on = context.value("measured_on", "");
  std::string line = measured_on.empty() ? "not measured yet" : measured_on;
  if (measured_on == "TCG guest") line += " (emulated CPU: timings are not hardware timings)";
  const nlohmann::json guest = context.value("guest", nlohmann::json());
  if (guest.is_object()) line += ", kernel " + guest.value("kernel_release", std::string{"?"});
  const nlohmann::json host = context.value("host", nlohmann::json());
  if (measured_on == "host" && host.is_object()) {
    line += ", kernel " + host.value("kernel_release", std::string{"?"}) + ", " +
            host.value("cpu_model", std::string{"?"});
  }
  if (context.contains("seed")) line += ", seed " + context["seed"].dump();
  return line;
}

}  // namespace

long long total_leaks(const nlohmann::json& results) {
  long long leaks = 0;
  bool checked = false;
  for (const nlohmann::json& run : results.value("runs", nlohmann::json::array())) {
    const nlohmann::json leak = run.value("leak_check", nlohmann::json());
    if (leak.is_object() && leak.contains("nonzero_pages") && leak["nonzero_pages"].is_number()) {
      leaks += leak["nonzero_pages"].get<long long>();
      checked = true;
    }
  }
  return checked ? leaks : -1;
}

std::size_t unfinished_runs(const nlohmann::json& results) {
  std::size_t count = 0;
  for (const nlohmann::json& run : results.value("runs", nlohmann::json::array())) {
    if (!run.value("warmup", false) && run.value("status", "") != "ok") ++count;
  }
  return count;
}

std::string format_summary(const nlohmann::json& results) {
  std::vector<std::string> order;
  std::map<std::string, WorkloadNumbers> workloads = collect(results, order);
  std::vector<std::string> arms;
  for (const std::string& arm : kArmOrder) {
    for (const auto& [name, numbers] : workloads) {
      if (numbers.arms.count(arm)) {
        arms.push_back(arm);
        break;
      }
    }
  }

  std::ostringstream out;
  const nlohmann::json& context = results["context"];
  out << "Measured on: " << headline(context) << "\n";
  out << std::left << std::setw(16) << "workload" << std::setw(22) << "metric";
  for (const std::string& arm : arms) out << std::setw(12) << arm;
  out << std::setw(8) << "ratio" << std::setw(9) << "reused" << std::setw(24) << "clear_page hits"
      << std::setw(18) << "clear_page CPU" << std::setw(7) << "leaks" << "runs ok\n";
  for (const std::string& name : order) {
    const WorkloadNumbers& numbers = workloads[name];
    std::string metric = numbers.metric.empty() ? "-" : numbers.metric;
    if (numbers.better == "higher") metric += " (+)";
    if (numbers.better == "lower") metric += " (-)";
    out << std::setw(16) << name << std::setw(22) << metric;
    std::map<std::string, std::string> medians;
    for (const std::string& arm : arms) {
      auto found = numbers.arms.find(arm);
      std::string text = found == numbers.arms.end() ? "" : median_text(found->second.metric);
      out << std::setw(12) << text;
    }
    std::string ratio = "-";
    auto baseline = numbers.arms.find("baseline");
    auto nozero = numbers.arms.find("nozero");
    if (baseline != numbers.arms.end() && nozero != numbers.arms.end() && !baseline->second.metric.empty() &&
        !nozero->second.metric.empty()) {
      double base = stats::median(baseline->second.metric);
      if (base != 0) {
        char text[16];
        std::snprintf(text, sizeof text, "%.3f", stats::median(nozero->second.metric) / base);
        ratio = text;
      }
    }
    out << std::setw(8) << ratio;
    std::string reused = "-";
    if (nozero != numbers.arms.end() && !nozero->second.reused_rate.empty()) {
      reused = percent(stats::median(nozero->second.reused_rate));
    }
    out << std::setw(9) << reused;
    std::string hits;
    std::string shares;
    std::string runs;
    long long leaks = 0;
    std::size_t leak_checks = 0;
    for (const std::string& arm : arms) {
      auto found = numbers.arms.find(arm);
      if (found == numbers.arms.end()) continue;
      if (!hits.empty()) hits += " / ";
      hits += median_text(found->second.clear_page_hits);
      if (!shares.empty()) shares += " / ";
      shares += found->second.clear_page_share.empty() ? "-" : percent(stats::median(found->second.clear_page_share));
      if (!runs.empty()) runs += " ";
      runs += std::to_string(found->second.ok) + "/" + std::to_string(found->second.total);
      leaks += found->second.leaks;
      leak_checks += found->second.leak_checks;
    }
    out << std::setw(24) << hits << std::setw(18) << shares << std::setw(7) << (leak_checks == 0 ? "-" : std::to_string(leaks)) << runs
        << "\n";
  }
  out << "Medians over repetitions, warmups excluded. ratio = nozero / baseline of the metric; (+) higher is "
         "better, (-) lower. reused = the nozero arm's faults in MAP_NOZERO mappings that skipped clearing (smiffy's "
         "own faults taken out; large folios weigh 512 pages). "
         "clear_page hits (kprobe calls) and clear_page CPU (share of the workload's perf samples) per arm, in "
         "the order of the columns. leaks = non-zero pages smiffy found.\n";
  return out.str();
}

std::string format_projection(const nlohmann::json& projection) {
  if (!projection.is_object()) return "";
  std::ostringstream out;
  if (!projection.value("available", false)) {
    out << "Projection for this host: not available: " << projection.value("reason", "") << "\n";
    return out.str();
  }
  out << "Projection for this host (an estimate, not a measurement): clear cost "
      << format_number(projection.value("host_clear_ns_per_4k", 0.0)) << " ns per 4 KiB page ("
      << projection.value("clear_cost_source", "") << ")\n";
  for (const nlohmann::json& entry : projection.value("workloads", nlohmann::json::array())) {
    out << "  " << std::left << std::setw(16) << entry.value("workload", "");
    if (!entry.value("available", false)) {
      out << "not available: " << entry.value("reason", "") << "\n";
      continue;
    }
    out << "saves about " << format_number(entry.value("estimated_saving_s", 0.0) * 1000) << " ms of "
        << format_number(entry.value("host_cpu_s", 0.0)) << " s CPU ("
        << percent(entry.value("estimated_saving_share_of_cpu", 0.0)) << "); "
        << format_number(entry.value("estimated_clears_avoided_4k", 0.0)) << " clears avoided";
    if (entry.value("capped_at_host_faults", false)) out << " (capped at the host run's faults)";
    if (entry.contains("host_clear_page_share")) {
      out << "; clear_page is " << percent(entry["host_clear_page_share"].get<double>())
          << " of the host profile";
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace nozero::run

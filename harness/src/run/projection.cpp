#include "run/projection.h"

#include <algorithm>
#include <map>
#include <vector>

#include "run/results.h"
#include "stats/statistics.h"

namespace nozero::run {

namespace {

constexpr const char* kClearBenchmark4k = "clear/rep_stosb/4k/cold";
constexpr const char* kClearBenchmark2m = "clear/rep_stosb/2m/cold";
constexpr double kPagesPer2m = 512;

// Median of ns_per_page over the iteration entries of one benchmark name.
std::optional<double> ns_per_page(const nlohmann::json& document, const std::string& name) {
  std::vector<double> values;
  for (const nlohmann::json& entry : document.value("benchmarks", nlohmann::json::array())) {
    if (entry.value("name", "") != name && entry.value("run_name", "") != name) continue;
    if (entry.value("run_type", "iteration") != "iteration") continue;
    if (entry.contains("error_occurred") && entry["error_occurred"].get<bool>()) continue;
    if (entry.contains("ns_per_page") && entry["ns_per_page"].is_number()) {
      values.push_back(entry["ns_per_page"].get<double>());
    }
  }
  if (values.empty()) return std::nullopt;
  return stats::median(values);
}

std::optional<double> number(const nlohmann::json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_number()) return std::nullopt;
  return object[key].get<double>();
}

bool measured(const nlohmann::json& run, const std::string& arm) {
  return run.value("arm", "") == arm && run.value("status", "") == "ok" && !run.value("warmup", false);
}

}  // namespace

std::optional<ClearCost> host_clear_cost(const nlohmann::json& host_results, std::string& why_not) {
  if (!host_results.is_object()) {
    why_not = "no host results";
    return std::nullopt;
  }
  for (const nlohmann::json& benchmark : host_results.value("benchmarks", nlohmann::json::array())) {
    if (benchmark.value("status", "") != "ok" || !benchmark.contains("document")) continue;
    std::optional<double> small = ns_per_page(benchmark["document"], kClearBenchmark4k);
    std::optional<double> large = ns_per_page(benchmark["document"], kClearBenchmark2m);
    if (!small) continue;
    ClearCost cost;
    cost.ns_per_4k = *small;
    // Without the 2 MiB result, a 2 MiB clear costs 512 clears of 4 KiB.
    cost.ns_per_2m = large ? *large * kPagesPer2m : *small * kPagesPer2m;
    cost.source = std::string{"host benchmark "} + benchmark.value("name", "") + ": " + kClearBenchmark4k +
                  (large ? std::string{" and "} + kClearBenchmark2m : std::string{" (2 MiB as 512 x 4 KiB)"});
    return cost;
  }
  why_not = std::string{"the host results have no "} + kClearBenchmark4k +
            " benchmark (add nzbench-clear to the suite's [[benchmark]] with on_host = true)";
  return std::nullopt;
}

namespace {

// The work a run did, in the unit of its workload's headline metric. For a rate
// (records/s) it is the rate times the workload's own elapsed time (its measured
// phase), else the run's wall time. Any other metric belongs to a fixed-work
// workload, whose run does the same work on the host as in the guest: one run.
std::optional<double> work_units(const nlohmann::json& run, const std::string& headline) {
  const nlohmann::json metrics = run.value("metrics", nlohmann::json::object());
  const nlohmann::json entry = metrics.value(headline, nlohmann::json());
  std::string unit = entry.is_object() ? entry.value("unit", "") : "";
  if (unit.size() < 2 || unit.substr(unit.size() - 2) != "/s") return 1.0;
  std::optional<double> rate = number(entry, "value");
  std::optional<double> elapsed = number(metrics.value("elapsed_s", nlohmann::json()), "value");
  if (!elapsed) elapsed = number(run, "wall_s");
  if (!rate || !elapsed) return std::nullopt;
  return *rate * *elapsed;
}

std::string work_unit_name(const nlohmann::json& run, const std::string& headline) {
  const nlohmann::json entry = run.value("metrics", nlohmann::json::object()).value(headline, nlohmann::json());
  std::string unit = entry.is_object() ? entry.value("unit", "") : "";
  if (unit.size() >= 2 && unit.substr(unit.size() - 2) == "/s") return unit.substr(0, unit.size() - 2);
  return "run";
}

}  // namespace

nlohmann::ordered_json make_projection(const nlohmann::json& guest_results, const nlohmann::json& host_results) {
  nlohmann::ordered_json projection = {{"kind", "estimate"}};
  std::string why_not;
  std::optional<ClearCost> cost = host_clear_cost(host_results, why_not);
  if (!cost) {
    projection["available"] = false;
    projection["reason"] = why_not;
    return projection;
  }
  projection["available"] = true;
  projection["method"] =
      "clears avoided per unit of work in the guest's nozero runs (nozero_reuse less smiffy's own reuse, and "
      "nozero_thp_reuse) x the units of work of the host's baseline runs x the host's cost of one clear; "
      "a unit is a record for a rate such as records/s, else one run of the same work";
  projection["host_clear_ns_per_4k"] = cost->ns_per_4k;
  projection["host_clear_ns_per_2m"] = cost->ns_per_2m;
  projection["clear_cost_source"] = cost->source;
  projection["measured_on"] = "host (clear cost, work, CPU time); TCG or KVM guest (clears avoided per unit)";

  const nlohmann::json headlines =
      guest_results.value("context", nlohmann::json::object()).value("headline_metrics", nlohmann::json::object());
  struct GuestReuse {
    std::vector<double> pages_per_unit;
    std::vector<double> folios_per_unit;
    std::string unit;
  };
  std::map<std::string, GuestReuse> reuse;
  for (const nlohmann::json& run : guest_results.value("runs", nlohmann::json::array())) {
    if (!measured(run, "nozero")) continue;
    std::string workload = run["workload"].get<std::string>();
    std::string headline = headlines.value(workload, "wall_s");
    const nlohmann::json vmstat = run.value("vmstat_delta", nlohmann::json());
    std::optional<double> pages = number(vmstat, "nozero_reuse");
    std::optional<double> units = work_units(run, headline);
    std::optional<LeakCheckerFaults> checker = leak_checker_faults(run);
    if (!pages || !units || *units <= 0 || !checker) continue;
    // The leak checker's own reuse is not the workload's.
    double own = std::max(0.0, *pages - checker->own_reused);
    GuestReuse& entry = reuse[workload];
    entry.pages_per_unit.push_back(own / *units);
    entry.folios_per_unit.push_back(number(vmstat, "nozero_thp_reuse").value_or(0) / *units);
    entry.unit = work_unit_name(run, headline);
  }

  nlohmann::ordered_json workloads = nlohmann::ordered_json::array();
  for (const auto& [workload, guest] : reuse) {
    nlohmann::ordered_json entry = {{"workload", workload}, {"work_unit", guest.unit}};
    double pages = stats::median(guest.pages_per_unit);
    double folios = stats::median(guest.folios_per_unit);
    entry["guest_reused_pages_per_unit"] = pages;
    entry["guest_reused_thp_per_unit"] = folios;

    std::string headline = headlines.value(workload, "wall_s");
    std::vector<double> units, cpu, wall, share, faults;
    for (const nlohmann::json& run : host_results.value("runs", nlohmann::json::array())) {
      if (run.value("workload", "") != workload || !measured(run, "baseline")) continue;
      const nlohmann::json rusage = run.value("rusage", nlohmann::json());
      std::optional<double> user = number(rusage, "utime_s");
      std::optional<double> system = number(rusage, "stime_s");
      std::optional<double> work = work_units(run, headline);
      if (!user || !system || !work) continue;
      units.push_back(*work);
      cpu.push_back(*user + *system);
      if (auto seconds = number(run, "wall_s")) wall.push_back(*seconds);
      if (auto minflt = number(rusage, "minflt")) faults.push_back(*minflt);
      const nlohmann::json perf = run.value("perf", nlohmann::json());
      if (auto clear_share = number(perf, "clear_page_share")) share.push_back(*clear_share);
    }
    if (units.empty()) {
      entry["available"] = false;
      entry["reason"] = "no successful host run of this workload";
      workloads.push_back(std::move(entry));
      continue;
    }
    double host_units = stats::median(units);
    double host_cpu = stats::median(cpu);
    double avoided_small = host_units * pages;
    double avoided_large = host_units * folios;
    // Each avoided 4 KiB clear is a fault, so the host's own fault count bounds
    // them: a workload can fault less per unit of work on the host than in the
    // guest.
    bool capped = false;
    if (!faults.empty() && avoided_small > stats::median(faults)) {
      avoided_small = stats::median(faults);
      capped = true;
    }
    double saving_s = (avoided_small * cost->ns_per_4k + avoided_large * cost->ns_per_2m) * 1e-9;
    entry["available"] = true;
    entry["host_units"] = host_units;
    entry["host_cpu_s"] = host_cpu;
    if (!wall.empty()) entry["host_wall_s"] = stats::median(wall);
    if (!faults.empty()) entry["host_minor_faults"] = stats::median(faults);
    entry["estimated_clears_avoided_4k"] = avoided_small;
    entry["capped_at_host_faults"] = capped;
    entry["estimated_clears_avoided_thp"] = avoided_large;
    entry["estimated_saving_s"] = saving_s;
    entry["estimated_saving_share_of_cpu"] = host_cpu > 0 ? saving_s / host_cpu : 0.0;
    if (!share.empty()) entry["host_clear_page_share"] = stats::median(share);
    workloads.push_back(std::move(entry));
  }
  projection["workloads"] = workloads;
  return projection;
}

}  // namespace nozero::run

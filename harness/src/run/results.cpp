#include "run/results.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "core/files.h"
#include "nozero/atomic_file.h"
#include "version.h"

namespace nozero::run {

namespace {

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

long long memory_kib() {
  std::ifstream meminfo("/proc/meminfo");
  std::string name;
  long long value = 0;
  std::string unit;
  while (meminfo >> name >> value >> unit) {
    if (name == "MemTotal:") return value;
  }
  return 0;
}

nlohmann::ordered_json metric(double value, const char* unit, const char* better) {
  return {{"value", value}, {"unit", unit}, {"better", better}};
}

std::optional<double> number_at(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return std::nullopt;
  auto entry = object.find(key);
  if (entry == object.end() || !entry->is_number()) return std::nullopt;
  return entry->get<double>();
}

}  // namespace

std::string run_dir_name(std::size_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "runs/%04zu", index);
  return name;
}

nlohmann::ordered_json host_context() {
  char hostname[256] = {};
  gethostname(hostname, sizeof hostname - 1);
  struct utsname names {};
  uname(&names);
  return {{"hostname", hostname},
          {"cpu_model", cpu_model()},
          {"cpus", sysconf(_SC_NPROCESSORS_ONLN)},
          {"memory_kib", memory_kib()},
          {"kernel_release", names.release}};
}

nlohmann::ordered_json initial_results(const Suite& suite, const Schedule& schedule,
                                       const std::string& measured_on) {
  nlohmann::ordered_json order = nlohmann::ordered_json::array();
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (const PlannedRun& run : schedule.runs) {
    order.push_back({{"index", run.index},
                     {"workload", run.workload},
                     {"arm", to_string(run.arm)},
                     {"repetition", run.repetition},
                     {"warmup", run.warmup},
                     {"boot", run.boot}});
    runs.push_back(run_entry_without_capture(run, "missing", "", measured_on));
  }
  nlohmann::ordered_json headline_metrics = nlohmann::ordered_json::object();
  for (const Workload& workload : suite.workloads) headline_metrics[workload.name] = workload.metric;
  nlohmann::ordered_json suite_json = {{"name", suite.name},
                                       {"path", suite.path.empty() ? nlohmann::ordered_json(nullptr)
                                                                   : nlohmann::ordered_json(suite.path.string())},
                                       {"sha256", suite.sha256}};
  nlohmann::ordered_json context = {{"nozero_bench_version", kVersion},
                                    {"created_at", utc_timestamp(std::chrono::system_clock::now())},
                                    {"host", host_context()},
                                    {"guest", nullptr},
                                    {"measured_on", measured_on},
                                    {"thp", suite.vm.thp},
                                    {"aslr", nullptr},
                                    {"pmu", nullptr},
                                    {"suite", suite_json},
                                    {"seed", schedule.seed},
                                    {"runs_per_boot", suite.runs_per_boot},
                                    {"headline_metrics", headline_metrics},
                                    {"order", order}};
  return {{"schema", kResultsSchema},
          {"schema_version", kResultsVersion},
          {"context", context},
          {"runs", runs},
          {"benchmarks", nlohmann::ordered_json::array()},
          {"host_runs", nlohmann::ordered_json::array()},
          {"projection", nullptr}};
}

Schedule schedule_from_results(const nlohmann::json& results) {
  Schedule schedule;
  const nlohmann::json& context = results.at("context");
  schedule.seed = context.at("seed").get<std::uint64_t>();
  for (const nlohmann::json& entry : context.at("order")) {
    PlannedRun run;
    run.index = entry.at("index").get<std::size_t>();
    run.workload = entry.at("workload").get<std::string>();
    std::optional<Arm> arm = parse_arm(entry.at("arm").get<std::string>());
    if (!arm) throw std::runtime_error("unknown arm " + entry.at("arm").dump() + " in context.order");
    run.arm = *arm;
    run.repetition = entry.at("repetition").get<unsigned>();
    run.warmup = entry.at("warmup").get<bool>();
    run.boot = entry.at("boot").get<std::size_t>();
    if (run.index != schedule.runs.size()) throw std::runtime_error("context.order is not in index order");
    while (schedule.boots.size() <= run.boot) {
      Boot boot;
      boot.index = schedule.boots.size();
      schedule.boots.push_back(boot);
    }
    schedule.boots[run.boot].kernel = kernel_for(run.arm);
    schedule.boots[run.boot].runs.push_back(run.index);
    schedule.runs.push_back(std::move(run));
  }
  return schedule;
}

void add_perf_summary(nlohmann::ordered_json& entry, const nlohmann::ordered_json& perf) {
  entry["perf"] = perf;
  // CPU time in clear_page: its share of the samples times the workload's CPU time.
  auto share = number_at(perf, "clear_page_share");
  auto user = number_at(entry["rusage"], "utime_s");
  auto system = number_at(entry["rusage"], "stime_s");
  if (share && user && system) {
    entry["metrics"]["clear_page_cpu_ms"] = metric(*share * (*user + *system) * 1000, "ms", "lower");
  }
}

nlohmann::ordered_json run_entry_without_capture(const PlannedRun& run, const std::string& status,
                                                 const std::string& error, const std::string& measured_on) {
  return {{"workload", run.workload},
          {"arm", to_string(run.arm)},
          {"repetition", run.repetition},
          {"warmup", run.warmup},
          {"order_index", run.index},
          {"boot", run.boot},
          {"status", status},
          {"error", error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(error)},
          {"measured_on", measured_on}};
}

nlohmann::ordered_json run_entry_from_capture(const nlohmann::json& capture, const std::string& measured_on,
                                              const std::string& run_dir_relative) {
  nlohmann::ordered_json entry;
  entry["workload"] = capture.at("workload");
  entry["arm"] = capture.at("arm");
  entry["repetition"] = capture.at("repetition");
  entry["warmup"] = capture.at("warmup");
  entry["order_index"] = capture.at("index");
  entry["status"] = capture.value("status", "failed");
  entry["error"] = capture.contains("error") ? capture["error"] : nlohmann::json(nullptr);
  entry["measured_on"] = measured_on;
  entry["thp"] = capture.value("thp", "");
  if (capture.contains("exit_status")) entry["exit_status"] = capture["exit_status"];
  if (capture.contains("wall_s")) entry["wall_s"] = capture["wall_s"];

  nlohmann::ordered_json metrics = nlohmann::ordered_json::object();
  const nlohmann::json workload = capture.value("workload_document", nlohmann::json(nullptr));
  if (workload.is_object() && workload.contains("metrics")) {
    for (const auto& [name, value] : workload["metrics"].items()) metrics[name] = value;
  }
  if (auto wall = number_at(capture, "wall_s"); wall && !metrics.contains("wall_s")) {
    metrics["wall_s"] = metric(*wall, "s", "lower");
  }
  entry["metrics"] = metrics;
  entry["rusage"] = capture.value("rusage", nlohmann::json(nullptr));
  entry["vmstat_delta"] = capture.value("vmstat_delta", nlohmann::json(nullptr));
  entry["clear_page"] = capture.value("clear_page", nlohmann::json(nullptr));
  nlohmann::ordered_json perf = capture.value("perf", nlohmann::json(nullptr));
  if (perf.is_object() && perf.value("available", false)) perf["perf_data"] = run_dir_relative + "/perf.data";
  entry["perf"] = perf;
  entry["hw_counters"] = capture.value("hw_counters", nlohmann::json(nullptr));
  entry["leak_check"] = capture.value("leak_check", nlohmann::json(nullptr));
  entry["workload_document"] = workload;
  entry["files"] = {{"stdout", run_dir_relative + "/stdout.log"},
                    {"stderr", run_dir_relative + "/stderr.log"},
                    {"capture", run_dir_relative + "/capture.json"}};

  // Derived metrics, computed once here so statistics and the gate can name them.
  if (auto rate = reused_rate(entry)) entry["metrics"]["nozero_reuse_rate"] = metric(*rate, "ratio", "higher");
  if (auto rate = thp_reused_rate(entry)) entry["metrics"]["nozero_thp_reuse_rate"] = metric(*rate, "ratio", "higher");
  auto reuse = number_at(entry["vmstat_delta"], "nozero_reuse");
  auto faults = number_at(entry["rusage"], "minflt");
  std::optional<LeakCheckerFaults> checker = leak_checker_faults(entry);
  if (reuse && faults && *faults > 0 && checker) {
    double own = std::max(0.0, *reuse - checker->own_reused);
    entry["metrics"]["nozero_reuse_per_fault"] = metric(own / *faults, "ratio", "higher");
  }
  if (auto hits = clear_page_hits(entry)) entry["metrics"]["clear_page_hits"] = metric(*hits, "calls", "lower");
  return entry;
}

std::optional<LeakCheckerFaults> leak_checker_faults(const nlohmann::json& run_entry) {
  const nlohmann::json leak = run_entry.value("leak_check", nlohmann::json(nullptr));
  if (!leak.is_object()) return LeakCheckerFaults{};
  auto faults = number_at(leak, "nozero_faults");
  auto own = number_at(leak, "own_reused_pages");
  if (!faults || !own) return std::nullopt;
  return LeakCheckerFaults{*faults, std::min(*own, *faults)};
}

std::optional<double> reused_rate(const nlohmann::json& run_entry) {
  const nlohmann::json vmstat = run_entry.value("vmstat_delta", nlohmann::json(nullptr));
  auto reuse = number_at(vmstat, "nozero_reuse");
  auto clear = number_at(vmstat, "nozero_clear");
  std::optional<LeakCheckerFaults> checker = leak_checker_faults(run_entry);
  if (!reuse || !clear || !checker) return std::nullopt;
  // Take the leak checker's own faults out of both counters.
  double own_reuse = std::max(0.0, *reuse - checker->own_reused);
  double own_clear = std::max(0.0, *clear - (checker->nozero_faults - checker->own_reused));
  // Large folios weigh as the 4 KiB pages they hold.
  double thp_reuse = number_at(vmstat, "nozero_thp_reuse").value_or(0) * kPagesPerThp;
  double thp_clear = number_at(vmstat, "nozero_thp_clear").value_or(0) * kPagesPerThp;
  double total = own_reuse + own_clear + thp_reuse + thp_clear;
  if (total <= 0) return std::nullopt;
  return (own_reuse + thp_reuse) / total;
}

std::optional<double> thp_reused_rate(const nlohmann::json& run_entry) {
  const nlohmann::json vmstat = run_entry.value("vmstat_delta", nlohmann::json(nullptr));
  auto reuse = number_at(vmstat, "nozero_thp_reuse");
  auto clear = number_at(vmstat, "nozero_thp_clear");
  if (!reuse || !clear || *reuse + *clear <= 0) return std::nullopt;
  return *reuse / (*reuse + *clear);
}

std::optional<double> clear_page_hits(const nlohmann::json& run_entry) {
  const nlohmann::json& clear_page = run_entry.value("clear_page", nlohmann::json(nullptr));
  if (!clear_page.is_object() || !clear_page.contains("functions")) return std::nullopt;
  double hits = 0;
  for (const auto& [name, stat] : clear_page["functions"].items()) {
    // clear_page_* counts every 4 KiB clear, those inside folio_zero_user included.
    if (name.rfind("clear_page", 0) == 0) hits += stat.value("hits", 0.0);
  }
  return hits;
}

bool needs_rerun(const nlohmann::json& run_entry) {
  std::string status = run_entry.value("status", "missing");
  return status == "missing" || status == "failed" || status == "timeout";
}

nlohmann::ordered_json load_results(const std::filesystem::path& path) {
  std::ifstream file(path);
  if (!file) {
    throw CommandError("cannot read " + path.string() + "; --resume takes a result directory that " +
                       "`nozero-bench run` created");
  }
  nlohmann::ordered_json results;
  try {
    results = nlohmann::ordered_json::parse(file);
  } catch (const nlohmann::json::parse_error& error) {
    throw CommandError(path.string() + " is not valid JSON (" + error.what() + ")");
  }
  if (results.value("schema", "") != kResultsSchema) {
    throw CommandError(path.string() + " is not a nozero-bench results file (schema is not \"" +
                       std::string{kResultsSchema} + "\")");
  }
  if (results.value("schema_version", 0) != kResultsVersion) {
    throw CommandError(path.string() + " has schema_version " + results["schema_version"].dump() +
                       "; this nozero-bench reads version " + std::to_string(kResultsVersion));
  }
  return results;
}

void save_results(const std::filesystem::path& path, const nlohmann::ordered_json& results) {
  write_file_atomically(path, results.dump(2) + "\n");
}

}  // namespace nozero::run

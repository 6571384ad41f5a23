#include "nozero/result.h"

#include <iostream>

#include "nozero/atomic_file.h"
#include "nozero/clock.h"

namespace nozero {

std::string_view program_version() { return NOZERO_PROJECT_VERSION; }

WorkloadReport::WorkloadReport(std::string program)
    : program_(std::move(program)), started_at_(utc_timestamp_now()) {
  set_nozero(NozeroSupport{}, false);
  set_rusage(ResourceUsage{}, "not measured");
}

void WorkloadReport::set_nozero(const NozeroSupport& support, bool requested) {
  nozero_ = nozero::to_json(support, requested);
}

void WorkloadReport::add_metric(const std::string& name, double value, const std::string& unit, Better better) {
  metrics_[name] = {
      {"value", value},
      {"unit", unit},
      {"better", better == Better::higher ? "higher" : "lower"},
  };
}

void WorkloadReport::set_samples(const std::string& name, const std::vector<double>& values) {
  samples_[name] = values;
}

void WorkloadReport::set_rusage(const ResourceUsage& usage, const std::string& scope) {
  rusage_ = nozero::to_json(usage);
  rusage_scope_ = scope;
  page_faults_ = {{"minor", usage.minflt}, {"major", usage.majflt}};
}

nlohmann::ordered_json& WorkloadReport::section(const std::string& name) {
  if (!sections_.contains(name)) sections_[name] = nlohmann::ordered_json::object();
  return sections_[name];
}

nlohmann::ordered_json WorkloadReport::to_json() const {
  nlohmann::ordered_json document{
      {"schema", kWorkloadSchema},
      {"schema_version", kWorkloadSchemaVersion},
      {"program", program_},
      {"program_version", program_version()},
      {"started_at", started_at_},
      {"parameters", parameters_},
      {"nozero", nozero_},
      {"metrics", metrics_},
      {"samples", samples_},
      {"rusage", rusage_},
      {"rusage_scope", rusage_scope_},
      {"page_faults", page_faults_},
      {"clock", kClockName},
  };
  for (const auto& [name, value] : sections_.items()) document[name] = value;
  return document;
}

void write_report(const WorkloadReport& report, const cli::JsonDestination& destination) {
  if (!destination.enabled) return;
  std::string text = report.to_json().dump(2) + "\n";
  if (destination.to_stdout()) {
    std::cout << text << std::flush;
  } else {
    write_file_atomically(destination.path, text);
  }
}

}  // namespace nozero

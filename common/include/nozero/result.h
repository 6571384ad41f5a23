// The "nozero-bench/workload" result document (docs/results-format.md). Every
// workload program builds one WorkloadReport, so the schema is defined only here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "nozero/cli.h"
#include "nozero/nozero_support.h"
#include "nozero/rusage.h"

namespace nozero {

inline constexpr const char* kWorkloadSchema = "nozero-bench/workload";
inline constexpr int kWorkloadSchemaVersion = 1;

// The project version the programs report as "program_version".
std::string_view program_version();

enum class Better { higher, lower };

class WorkloadReport {
 public:
  // Records the program name and the start time (UTC).
  explicit WorkloadReport(std::string program);

  // Every option, resolved. Programs assign keys directly: parameters()["threads"] = 2.
  nlohmann::ordered_json& parameters() { return parameters_; }

  void set_nozero(const NozeroSupport& support, bool requested);

  // A headline value; `name` is a stable identifier such as "records_per_s".
  void add_metric(const std::string& name, double value, const std::string& unit, Better better);

  // Raw per-interval or per-process values, keyed by metric name.
  void set_samples(const std::string& name, const std::vector<double>& values);

  // The resource usage of the measured part of the run, and what it covers
  // ("this process, measured phase" or "child processes").
  void set_rusage(const ResourceUsage& usage, const std::string& scope);

  // A program's own top-level section, e.g. "leaks" or "processes".
  nlohmann::ordered_json& section(const std::string& name);

  nlohmann::ordered_json to_json() const;

 private:
  std::string program_;
  std::string started_at_;
  nlohmann::ordered_json parameters_ = nlohmann::ordered_json::object();
  nlohmann::ordered_json nozero_;
  nlohmann::ordered_json metrics_ = nlohmann::ordered_json::object();
  nlohmann::ordered_json samples_ = nlohmann::ordered_json::object();
  nlohmann::ordered_json rusage_;
  std::string rusage_scope_;
  nlohmann::ordered_json page_faults_;
  nlohmann::ordered_json sections_ = nlohmann::ordered_json::object();
};

// Writes the document to stdout or, atomically, to the file of `destination`.
// Does nothing when --json was not given.
void write_report(const WorkloadReport& report, const cli::JsonDestination& destination);

}  // namespace nozero

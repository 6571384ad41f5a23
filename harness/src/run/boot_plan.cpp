#include "run/boot_plan.h"

#include <stdexcept>

namespace nozero::run {

nlohmann::ordered_json to_json(const BootPlan& plan) {
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (const RunSpec& run : plan.runs) {
    runs.push_back({{"index", run.index},
                    {"workload", run.workload},
                    {"arm", run.arm},
                    {"warmup", run.warmup},
                    {"repetition", run.repetition},
                    {"argv", run.argv},
                    {"json_output", run.json_output},
                    {"prepare", run.prepare},
                    {"scratch_dir", run.scratch_dir.string()},
                    {"thp", run.thp},
                    {"timeout_s", run.timeout_s},
                    {"leak_check", run.leak_check},
                    {"output_dir", run.output_dir.string()}});
  }
  nlohmann::ordered_json benchmarks = nlohmann::ordered_json::array();
  for (const BenchmarkSpec& benchmark : plan.benchmarks) {
    benchmarks.push_back({{"name", benchmark.name},
                          {"argv", benchmark.argv},
                          {"timeout_s", benchmark.timeout_s},
                          {"output", benchmark.output.string()}});
  }
  return {{"schema", kBootPlanSchema},
          {"schema_version", kBootPlanVersion},
          {"boot", plan.boot},
          {"result_dir", plan.result_dir.string()},
          {"boot_dir", plan.boot_dir.string()},
          {"bin_dir", plan.bin_dir.string()},
          {"self", plan.self.string()},
          {"workload_uid", plan.workload_uid},
          {"leak_check_uid", plan.leak_check_uid},
          {"leak_check_argv", plan.leak_check_argv},
          {"clear_page_functions", plan.clear_page_functions},
          {"profiled_functions", plan.profiled_functions},
          {"set_thp", plan.set_thp},
          {"mount_tracefs", plan.mount_tracefs},
          {"profile", plan.profile},
          {"runs", runs},
          {"benchmarks", benchmarks}};
}

BootPlan boot_plan_from_json(const nlohmann::json& document) {
  if (document.value("schema", "") != kBootPlanSchema) {
    throw std::runtime_error("not a boot plan: schema is not \"" + std::string{kBootPlanSchema} + "\"");
  }
  if (document.value("schema_version", 0) != kBootPlanVersion) {
    throw std::runtime_error("boot plan schema_version " + document.value("schema_version", nlohmann::json{}).dump() +
                             " is not supported; this nozero-bench reads version " +
                             std::to_string(kBootPlanVersion));
  }
  BootPlan plan;
  plan.boot = document.at("boot").get<std::size_t>();
  plan.result_dir = document.at("result_dir").get<std::string>();
  plan.boot_dir = document.at("boot_dir").get<std::string>();
  plan.bin_dir = document.at("bin_dir").get<std::string>();
  plan.self = document.at("self").get<std::string>();
  plan.workload_uid = document.at("workload_uid").get<unsigned>();
  plan.leak_check_uid = document.at("leak_check_uid").get<unsigned>();
  plan.leak_check_argv = document.at("leak_check_argv").get<std::vector<std::string>>();
  plan.clear_page_functions = document.at("clear_page_functions").get<std::vector<std::string>>();
  plan.profiled_functions = document.at("profiled_functions").get<std::vector<std::string>>();
  plan.set_thp = document.at("set_thp").get<bool>();
  plan.mount_tracefs = document.at("mount_tracefs").get<bool>();
  plan.profile = document.at("profile").get<bool>();
  for (const auto& entry : document.at("runs")) {
    RunSpec run;
    run.index = entry.at("index").get<std::size_t>();
    run.workload = entry.at("workload").get<std::string>();
    run.arm = entry.at("arm").get<std::string>();
    run.warmup = entry.at("warmup").get<bool>();
    run.repetition = entry.at("repetition").get<unsigned>();
    run.argv = entry.at("argv").get<std::vector<std::string>>();
    run.json_output = entry.at("json_output").get<bool>();
    run.prepare = entry.at("prepare").get<std::vector<std::vector<std::string>>>();
    run.scratch_dir = entry.at("scratch_dir").get<std::string>();
    run.thp = entry.at("thp").get<std::string>();
    run.timeout_s = entry.at("timeout_s").get<unsigned>();
    run.leak_check = entry.at("leak_check").get<bool>();
    run.output_dir = entry.at("output_dir").get<std::string>();
    plan.runs.push_back(std::move(run));
  }
  for (const auto& entry : document.at("benchmarks")) {
    BenchmarkSpec benchmark;
    benchmark.name = entry.at("name").get<std::string>();
    benchmark.argv = entry.at("argv").get<std::vector<std::string>>();
    benchmark.timeout_s = entry.at("timeout_s").get<unsigned>();
    benchmark.output = entry.at("output").get<std::string>();
    plan.benchmarks.push_back(std::move(benchmark));
  }
  return plan;
}

}  // namespace nozero::run

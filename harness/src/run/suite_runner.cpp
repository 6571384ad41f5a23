#include "run/suite_runner.h"

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "core/errors.h"
#include "nozero/atomic_file.h"
#include "run/guest_runner.h"
#include "run/perf_profile.h"
#include "run/programs.h"
#include "run/results.h"

namespace nozero::run {

namespace {

std::optional<nlohmann::json> read_json_file(const std::filesystem::path& path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  try {
    return nlohmann::json::parse(file);
  } catch (const nlohmann::json::parse_error&) {
    return std::nullopt;
  }
}

// The guest's environment for the PATH lookups of perf, make and gcc.
const std::map<std::string, std::string> kGuestEnvironment = {
    {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, {"HOME", "/root"}, {"LANG", "C"}};

std::string describe(const PlannedRun& run) {
  std::string text = run.workload + " " + std::string{to_string(run.arm)};
  text += run.warmup ? " warmup " + std::to_string(run.repetition) : " repetition " + std::to_string(run.repetition);
  return text;
}

// Splits streamed output into lines.
class LineSplitter {
 public:
  explicit LineSplitter(std::function<void(const std::string&)> on_line) : on_line_(std::move(on_line)) {}
  void feed(std::string_view chunk) {
    buffer_.append(chunk);
    std::size_t newline;
    while ((newline = buffer_.find('\n')) != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      on_line_(line);
    }
  }
  void finish() {
    if (!buffer_.empty()) on_line_(buffer_);
    buffer_.clear();
  }

 private:
  std::function<void(const std::string&)> on_line_;
  std::string buffer_;
};

}  // namespace

std::string guest_label(vm::Accelerator accelerator) {
  return accelerator == vm::Accelerator::kvm ? "KVM guest" : "TCG guest";
}

RunSpec make_run_spec(const Suite& suite, const Workload& workload, const PlannedRun& run,
                      const Toolbox& toolbox, const std::filesystem::path& result_dir) {
  const Program& program = *find_program(workload.program);
  RunSpec spec;
  spec.index = run.index;
  spec.workload = run.workload;
  spec.arm = std::string{to_string(run.arm)};
  spec.warmup = run.warmup;
  spec.repetition = run.repetition;
  char scratch_name[32];
  std::snprintf(scratch_name, sizeof scratch_name, "run-%04zu", run.index);
  spec.scratch_dir = toolbox.scratch_base / scratch_name;
  spec.output_dir = result_dir / run_dir_name(run.index);
  spec.thp = workload.thp;
  spec.timeout_s = workload.timeout_s;
  spec.json_output = program.writes_json;
  spec.leak_check = suite.leak_check.enabled && workload.leak_check;

  const bool nozero = run.arm == Arm::nozero;
  std::vector<std::string> command;
  if (!program.binary.empty()) {
    command.push_back((toolbox.bin_dir / program.binary).string());
    command.insert(command.end(), workload.args.begin(), workload.args.end());
    if (nozero && workload.nozero == "flag") command.push_back("-N");
  } else if (workload.program == "make") {
    if (toolbox.linux_tools_tree.empty()) {
      throw std::logic_error("workload " + workload.name + " needs the linux-tools tree, which was not prepared");
    }
    // A fresh copy per run, made before the timer starts, so every run compiles
    // every file.
    spec.prepare.push_back({"cp", "-R", toolbox.linux_tools_tree.string(), (spec.scratch_dir / "src").string()});
    command = {"make", "-C", (spec.scratch_dir / "src").string(), "-j" + std::to_string(workload.jobs)};
    command.insert(command.end(), workload.args.begin(), workload.args.end());
  } else {
    command = workload.command;
    command.insert(command.end(), workload.args.begin(), workload.args.end());
  }
  if (nozero && workload.nozero == "exec") {
    command.insert(command.begin(), {(toolbox.bin_dir / kNozeroExecBinary).string(), "--"});
  }
  spec.argv = std::move(command);
  return spec;
}

BenchmarkSpec make_benchmark_spec(const Benchmark& benchmark, const Toolbox& toolbox,
                                  const std::filesystem::path& output) {
  BenchmarkSpec spec;
  spec.name = benchmark.name;
  spec.argv = {(toolbox.bin_dir / benchmark.binary).string()};
  // Google Benchmark 1.7 takes the minimum time as a plain number of seconds.
  spec.argv.push_back("--benchmark_min_time=" + std::to_string(benchmark.min_time_s));
  spec.argv.insert(spec.argv.end(), benchmark.args.begin(), benchmark.args.end());
  spec.timeout_s = benchmark.timeout_s;
  spec.output = output;
  return spec;
}

SuiteRunner::SuiteRunner(Suite suite, SuiteRunOptions options, vm::Executor& executor)
    : suite_(std::move(suite)), options_(std::move(options)), executor_(executor) {}

void SuiteRunner::log(const std::string& line) const {
  if (options_.log) options_.log(line);
}

void SuiteRunner::save() const { save_results(options_.result_dir / kResultsFile, results_); }

void SuiteRunner::start(std::uint64_t seed) {
  std::filesystem::create_directories(options_.result_dir);
  if (std::filesystem::exists(options_.result_dir / kResultsFile)) {
    throw CommandError(options_.result_dir.string() + " already contains a results.json; continue it with --resume " +
                       options_.result_dir.string() + " or choose a new directory");
  }
  write_file_atomically(options_.result_dir / "suite.toml", suite_.text);
  schedule_ = make_schedule(suite_, seed);
  results_ = initial_results(suite_, schedule_, "");
  results_["context"]["measured_on"] = nullptr;
  results_["boots"] = nlohmann::ordered_json::array();
  save();
}

void SuiteRunner::resume() {
  results_ = load_results(options_.result_dir / kResultsFile);
  const std::string recorded = results_["context"]["suite"].value("sha256", "");
  if (recorded != suite_.sha256) {
    throw CommandError(options_.result_dir.string() + "/suite.toml does not match the suite recorded in " +
                       "results.json (sha256 " + recorded + "); it was edited after the run started");
  }
  try {
    schedule_ = schedule_from_results(results_);
  } catch (const std::exception& error) {
    throw CommandError("cannot resume " + options_.result_dir.string() + ": " + error.what());
  }
  if (!results_.contains("boots")) results_["boots"] = nlohmann::ordered_json::array();
}

const KernelImage& SuiteRunner::kernel_image(KernelKind kind) const {
  const std::optional<KernelImage>& image = kind == KernelKind::patched ? options_.patched : options_.unpatched;
  if (!image) {
    throw CommandError("the suite needs the " + std::string{to_string(kind)} + " kernel, and none was given");
  }
  return *image;
}

std::string SuiteRunner::measured_on() const {
  if (!options_.host_label.empty()) return options_.host_label;
  if (accelerator_used_) return guest_label(*accelerator_used_);
  const nlohmann::ordered_json& recorded = results_["context"]["measured_on"];
  return recorded.is_string() ? recorded.get<std::string>() : "";
}

std::filesystem::path SuiteRunner::next_boot_dir() {
  char name[32];
  std::snprintf(name, sizeof name, "boots/%03zu", results_["boots"].size());
  return options_.result_dir / name;
}

SuiteRunner::BootOutcome SuiteRunner::boot(BootPlan plan, const KernelImage& kernel, unsigned run_time_budget_s,
                                           const std::function<void(const std::string&)>& on_line) {
  BootOutcome outcome;
  outcome.boot_dir = next_boot_dir();
  std::filesystem::create_directories(outcome.boot_dir);
  plan.boot = results_["boots"].size();
  plan.boot_dir = outcome.boot_dir;
  plan.result_dir = options_.result_dir;
  plan.bin_dir = options_.toolbox.bin_dir;
  plan.self = options_.toolbox.self;
  plan.workload_uid = suite_.workload_uid;
  plan.leak_check_uid = suite_.leak_check.uid;
  plan.leak_check_argv = {(options_.toolbox.bin_dir / kSmiffyBinary).string()};
  plan.leak_check_argv.insert(plan.leak_check_argv.end(), suite_.leak_check.args.begin(),
                              suite_.leak_check.args.end());
  plan.clear_page_functions = kClearPageFunctions;
  plan.profiled_functions = kProfiledFunctions;
  plan.set_thp = options_.host_label.empty();
  plan.mount_tracefs = options_.host_label.empty();
  plan.profile = suite_.profile;
  std::filesystem::path plan_path = outcome.boot_dir / "plan.json";
  write_file_atomically(plan_path, to_json(plan).dump(2) + "\n");

  vm::VmConfig config;
  config.kernel_image = kernel.image;
  config.cpus = suite_.vm.cpus;
  config.memory_mib = suite_.vm.memory_mib;
  config.thp = suite_.vm.thp;
  config.share_dir = options_.result_dir;
  config.console_log = outcome.boot_dir / "console.log";
  config.accelerator = options_.accelerator;
  config.timeout = std::chrono::seconds(run_time_budget_s + options_.boot_allowance_s);
  config.stop_requested = options_.stop_requested;

  vm::GuestCommand command;
  command.argv = {options_.toolbox.self.string(), kGuestRunCommand, "--plan", plan_path.string()};
  command.uid = 0;
  command.gid = 0;
  command.env = kGuestEnvironment;

  std::ofstream output_log(outcome.boot_dir / "guest-output.log");
  LineSplitter splitter([&](const std::string& line) {
    output_log << line << "\n";
    output_log.flush();
    on_line(line);
  });
  progress_.boot_started();
  outcome.exec = executor_.run(config, command, [&](std::string_view chunk) { splitter.feed(chunk); });
  splitter.finish();
  return outcome;
}

bool SuiteRunner::merge_capture(std::size_t index, const std::filesystem::path& boot_dir) {
  std::filesystem::path path = options_.result_dir / run_dir_name(index) / "capture.json";
  std::optional<nlohmann::json> capture = read_json_file(path);
  if (!capture) return false;
  nlohmann::ordered_json entry = run_entry_from_capture(*capture, measured_on(), run_dir_name(index));
  entry["boot"] = schedule_.runs[index].boot;
  entry["boot_dir"] = std::filesystem::relative(boot_dir, options_.result_dir).string();
  results_["runs"][index] = std::move(entry);
  return true;
}

void SuiteRunner::summarize_profiles(const std::vector<std::size_t>& indices, const std::filesystem::path& boot_dir) {
  if (options_.perf.empty()) return;
  std::filesystem::path kallsyms = boot_dir / "kallsyms";
  for (std::size_t index : indices) {
    nlohmann::ordered_json& entry = results_["runs"][index];
    if (!entry["perf"].is_object() || !entry["perf"].value("available", false)) continue;
    std::filesystem::path data = options_.result_dir / run_dir_name(index) / "perf.data";
    if (!std::filesystem::exists(data)) {
      entry["perf"]["report_error"] = "perf.data is missing";
      continue;
    }
    try {
      PerfSummary summary = report_perf_data(options_.perf, data, std::filesystem::exists(kallsyms) ? kallsyms : "");
      add_perf_summary(entry, perf_summary_json(summary, run_dir_name(index) + "/perf.data"));
    } catch (const std::exception& error) {
      entry["perf"]["report_error"] = error.what();
    }
  }
}

void SuiteRunner::record_boot(const BootOutcome& outcome, KernelKind kernel, const std::vector<std::size_t>& runs) {
  const vm::ExecResult& exec = outcome.exec;
  nlohmann::ordered_json entry = {
      {"index", results_["boots"].size()},
      {"dir", std::filesystem::relative(outcome.boot_dir, options_.result_dir).string()},
      {"kernel", to_string(kernel)},
      {"kernel_release", exec.kernel_release},
      {"accelerator", options_.host_label.empty() ? std::string{vm::to_string(exec.accelerator)} : "none"},
      {"accelerator_reason", exec.accelerator_reason},
      {"boot_s", exec.boot_s},
      {"command_s", exec.command_s},
      {"exit_status", exec.exit_status},
      {"timed_out", exec.timed_out},
      {"error", exec.error.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(exec.error)},
      {"console_log", std::filesystem::relative(outcome.boot_dir / "console.log", options_.result_dir).string()},
      {"runs", runs}};
  results_["boots"].push_back(std::move(entry));
}

void SuiteRunner::record_guest_context(const BootOutcome& outcome, const KernelImage& kernel) {
  std::optional<nlohmann::json> environment = read_json_file(outcome.boot_dir / "guest.json");
  if (!environment) return;
  const vm::ExecResult& exec = outcome.exec;
  nlohmann::ordered_json guest = {{"accelerator", vm::to_string(exec.accelerator)},
                                  {"accelerator_reason", exec.accelerator_reason},
                                  {"kernel_release", exec.kernel_release.empty()
                                                         ? environment->value("kernel_release", "")
                                                         : exec.kernel_release},
                                  {"kernel_image", kernel.image.string()},
                                  {"kernel_key", kernel.key},
                                  {"series_hash", kernel.series_hash},
                                  {"patched", kernel.patched},
                                  {"cmdline", environment->value("cmdline", exec.kernel_cmdline)},
                                  {"cpus", suite_.vm.cpus},
                                  {"memory_mib", suite_.vm.memory_mib},
                                  {"environment", *environment}};
  nlohmann::ordered_json& context = results_["context"];
  if (!options_.host_label.empty()) {
    context["measured_on"] = options_.host_label;
    context["environment"] = *environment;
    context["thp"] = environment->value("thp", "");
    context["aslr"] = environment->value("aslr", nlohmann::json(nullptr));
    context["pmu"] = environment->value("pmu", nlohmann::json(nullptr));
    return;
  }
  const char* key = kernel.patched ? "guest" : "guest_unpatched";
  if (context.contains(key) && !context[key].is_null()) return;
  context[key] = guest;
  if (kernel.patched) {
    context["measured_on"] = guest_label(exec.accelerator);
    context["aslr"] = environment->value("aslr", nlohmann::json(nullptr));
    context["pmu"] = environment->value("pmu", nlohmann::json(nullptr));
  }
}

bool SuiteRunner::run_pending() {
  // Per boot, the measured runs still to do and the warmups of their workloads.
  struct PendingBoot {
    KernelKind kernel;
    std::vector<std::size_t> runs;
  };
  std::vector<PendingBoot> pending;
  std::vector<std::string> workloads;
  for (const Boot& boot : schedule_.boots) {
    std::set<std::string> needed;
    for (std::size_t index : boot.runs) {
      const PlannedRun& run = schedule_.runs[index];
      if (!run.warmup && needs_rerun(results_["runs"][index])) needed.insert(run.workload);
    }
    if (needed.empty()) continue;
    PendingBoot entry{boot.kernel, {}};
    for (std::size_t index : boot.runs) {
      const PlannedRun& run = schedule_.runs[index];
      if (!needed.count(run.workload)) continue;
      if (run.warmup || needs_rerun(results_["runs"][index])) {
        entry.runs.push_back(index);
        workloads.push_back(run.workload);
      }
    }
    pending.push_back(std::move(entry));
  }
  progress_.begin(workloads, pending.size());

  for (const PendingBoot& entry : pending) {
    if (options_.stop_requested && *options_.stop_requested) return false;
    const KernelImage& kernel = kernel_image(entry.kernel);
    BootPlan plan;
    unsigned budget = 0;
    for (std::size_t index : entry.runs) {
      // An earlier attempt's files must not pass for this boot's.
      std::filesystem::remove_all(options_.result_dir / run_dir_name(index));
      const PlannedRun& run = schedule_.runs[index];
      const Workload& workload = *suite_.find_workload(run.workload);
      plan.runs.push_back(make_run_spec(suite_, workload, run, options_.toolbox, options_.result_dir));
      // A minute per run for prepare, the leak checker and the capture around it.
      budget += workload.timeout_s + 60;
    }

    std::filesystem::path boot_dir = next_boot_dir();
    std::set<std::size_t> captured;
    bool ready = false;
    auto on_line = [&](const std::string& line) {
      if (!ready) {
        ready = true;
        progress_.guest_ready();
      }
      if (line.rfind(kProgressPrefix, 0) != 0) return;
      std::istringstream fields(line.substr(std::string{kProgressPrefix}.size()));
      std::size_t index = 0;
      std::string status;
      if (!(fields >> index >> status) || index >= schedule_.runs.size()) return;
      if (merge_capture(index, boot_dir)) captured.insert(index);
      save();
      log(progress_.run_finished(describe(schedule_.runs[index]), status));
    };
    BootOutcome outcome = boot(std::move(plan), kernel, budget, on_line);
    if (!outcome.exec.error.empty() || outcome.exec.exit_status != 0) {
      log("boot " + std::to_string(results_["boots"].size()) + " ended early: " +
          (outcome.exec.error.empty() ? "guest runner exit status " + std::to_string(outcome.exec.exit_status)
                                      : outcome.exec.error) +
          " (console log: " + (outcome.boot_dir / "console.log").string() + ")");
    }
    // The accelerator is known only now: label the runs merged while the guest ran.
    accelerator_used_ = outcome.exec.accelerator;
    for (std::size_t index : entry.runs) results_["runs"][index]["measured_on"] = measured_on();

    // Runs the guest did not report: the first was running when the boot ended.
    bool first_lost = true;
    bool stopped = options_.stop_requested && *options_.stop_requested;
    for (std::size_t index : entry.runs) {
      if (captured.count(index) || merge_capture(index, outcome.boot_dir)) continue;
      const PlannedRun& run = schedule_.runs[index];
      std::string status = "missing";
      std::string error = "not run: the boot ended before this run started";
      if (stopped) {
        error = first_lost ? "interrupted before this run finished" : "not run: interrupted";
      } else if (first_lost) {
        status = outcome.exec.timed_out ? "timeout" : "failed";
        error = outcome.exec.timed_out ? "the guest did not finish within its time limit during this run"
                                       : "the guest ended during this run: " +
                                             (outcome.exec.error.empty()
                                                  ? "runner exit status " + std::to_string(outcome.exec.exit_status)
                                                  : outcome.exec.error);
        error += "; console log: " + (outcome.boot_dir / "console.log").string();
      }
      first_lost = false;
      results_["runs"][index] = run_entry_without_capture(run, status, error, measured_on());
    }
    progress_.boot_finished();
    summarize_profiles(entry.runs, outcome.boot_dir);
    record_guest_context(outcome, kernel);
    record_boot(outcome, entry.kernel, entry.runs);
    save();
    if (stopped) return false;
  }
  return true;
}

bool SuiteRunner::benchmarks_pending() const {
  const std::string where = measured_on();
  const nlohmann::ordered_json& entries = results_["benchmarks"];
  bool any = false;
  for (const auto& entry : entries) {
    if (entry.value("measured_on", "") != where) continue;
    any = true;
    if (entry.value("status", "") != "ok") return true;
  }
  return !any;
}

void SuiteRunner::run_benchmarks() {
  if (options_.stop_requested && *options_.stop_requested) return;
  BootPlan plan;
  unsigned budget = 0;
  const bool host = !options_.host_label.empty();
  std::filesystem::path directory = options_.result_dir / "benchmarks" / (host ? "host" : "guest");
  for (const Benchmark& benchmark : suite_.benchmarks) {
    if (host ? !benchmark.on_host : !benchmark.in_guest) continue;
    plan.benchmarks.push_back(make_benchmark_spec(benchmark, options_.toolbox, directory / (benchmark.name + ".json")));
    budget += benchmark.timeout_s;
  }
  if (plan.benchmarks.empty()) return;
  const KernelImage& kernel = kernel_image(KernelKind::patched);
  log(host ? "running " + std::to_string(plan.benchmarks.size()) + " benchmark(s) on the host"
            : "booting the patched kernel for " + std::to_string(plan.benchmarks.size()) + " guest benchmark(s)");
  std::vector<BenchmarkSpec> specs = plan.benchmarks;
  BootOutcome outcome = boot(std::move(plan), kernel, budget, [](const std::string&) {});
  progress_.boot_finished();
  accelerator_used_ = outcome.exec.accelerator;
  record_guest_context(outcome, kernel);
  record_boot(outcome, KernelKind::patched, {});
  // A rerun replaces the entries of an earlier attempt in this place.
  nlohmann::ordered_json kept = nlohmann::ordered_json::array();
  for (auto& entry : results_["benchmarks"]) {
    if (entry.value("measured_on", "") != measured_on()) kept.push_back(std::move(entry));
  }
  results_["benchmarks"] = std::move(kept);
  for (const BenchmarkSpec& spec : specs) {
    nlohmann::ordered_json entry = {{"name", spec.name},
                                    {"measured_on", measured_on()},
                                    {"argv", spec.argv},
                                    {"file", std::filesystem::relative(spec.output, options_.result_dir).string()}};
    std::optional<nlohmann::json> document = read_json_file(spec.output);
    std::optional<nlohmann::json> status =
        read_json_file(spec.output.parent_path() / (spec.name + ".status.json"));
    if (document) {
      entry["status"] = "ok";
      entry["document"] = *document;
    } else {
      entry["status"] = "failed";
      entry["error"] = status ? status->value("error", "no output") : "the guest wrote no status for it";
    }
    results_["benchmarks"].push_back(std::move(entry));
  }
  save();
}

}  // namespace nozero::run

#include "run/guest_runner.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <iostream>
#include <optional>
#include <sstream>

#include "core/errors.h"
#include "nozero/atomic_file.h"
#include "nozero/nozero_support.h"
#include "run/child_process.h"
#include "run/hw_counters.h"
#include "run/kernel_probes.h"
#include "run/perf_profile.h"

namespace nozero::run {

namespace {

constexpr const char* kThpEnabled = "/sys/kernel/mm/transparent_hugepage/enabled";

std::string trim(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// The selected value of a sysfs choice file such as "always [madvise] never".
std::string selected_choice(const std::string& text) {
  auto open = text.find('[');
  auto close = text.find(']', open);
  if (open == std::string::npos || close == std::string::npos) return trim(text);
  return text.substr(open + 1, close - open - 1);
}

std::string current_thp() {
  std::optional<std::string> text = read_text_file(kThpEnabled);
  return text ? selected_choice(*text) : "unavailable";
}

std::string last_line_of(const std::filesystem::path& path) {
  std::optional<std::string> text = read_text_file(path);
  if (!text) return "";
  std::string content = trim(*text);
  auto newline = content.rfind('\n');
  return newline == std::string::npos ? content : content.substr(newline + 1);
}

std::optional<nlohmann::json> read_json(const std::filesystem::path& path, std::string& error) {
  std::optional<std::string> text = read_text_file(path);
  if (!text) {
    error = path.string() + " was not written";
    return std::nullopt;
  }
  try {
    return nlohmann::json::parse(*text);
  } catch (const nlohmann::json::parse_error& parse_error) {
    error = path.string() + " is not valid JSON: " + parse_error.what();
    return std::nullopt;
  }
}

void make_owned_dir(const std::filesystem::path& path, unsigned uid) {
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  if (geteuid() == 0 && chown(path.c_str(), uid, uid) != 0) {
    throw std::runtime_error("chown " + path.string() + " to uid " + std::to_string(uid) + " failed");
  }
}

// Facilities the runner probes once per boot: perf, ftrace, kprobes, counters.
struct BootEnvironment {
  PerfAvailability perf;
  std::optional<FunctionProfiler> profiler;
  std::unique_ptr<KprobeHitCounter> kprobes;
  std::string kprobes_reason;
  ChildCounters counters{false, "not probed", nullptr};
  bool switch_user = false;
};

nlohmann::ordered_json environment_json(const BootPlan& plan, const BootEnvironment& environment) {
  struct utsname names {};
  uname(&names);
  nlohmann::ordered_json json;
  json["schema"] = "nozero-bench/guest-environment";
  json["schema_version"] = 1;
  json["boot"] = plan.boot;
  json["kernel_release"] = names.release;
  json["kernel_version"] = names.version;
  json["cmdline"] = trim(read_text_file("/proc/cmdline").value_or(""));
  json["thp"] = current_thp();
  std::optional<std::string> aslr = read_text_file("/proc/sys/kernel/randomize_va_space");
  json["aslr"] = aslr ? nlohmann::ordered_json(std::stoi(*aslr)) : nlohmann::ordered_json(nullptr);
  json["cpus"] = sysconf(_SC_NPROCESSORS_ONLN);
  json["memory_kib"] = static_cast<long long>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / 1024;
  NozeroSupport support = detect_nozero_support();
  json["nozero"] = to_json(support, false);
  json["perf"] = environment.perf.available
                     ? nlohmann::ordered_json{{"available", true}, {"path", environment.perf.perf.string()}}
                     : nlohmann::ordered_json{{"available", false}, {"reason", environment.perf.reason}};
  const FunctionProfiler& profiler = *environment.profiler;
  json["ftrace"] = profiler.available()
                       ? nlohmann::ordered_json{{"available", true},
                                                {"tracefs", profiler.tracefs().string()},
                                                {"functions", profiler.functions()},
                                                {"missing", profiler.missing()}}
                       : nlohmann::ordered_json{{"available", false}, {"reason", profiler.unavailable_reason()}};
  json["kprobes"] = environment.kprobes && environment.kprobes->available()
                        ? nlohmann::ordered_json{{"available", true}, {"functions", environment.kprobes->functions()}}
                        : nlohmann::ordered_json{{"available", false}, {"reason", environment.kprobes_reason}};
  json["pmu"] = environment.counters.available()
                    ? nlohmann::ordered_json{{"available", true}}
                    : nlohmann::ordered_json{{"available", false}, {"reason", environment.counters.reason()}};
  json["runner_uid"] = geteuid();
  return json;
}

// Options for a command run as `uid` (when switching users) in `cwd`, with stdout
// and stderr in one log file.
ChildOptions options_as(unsigned uid, bool switch_user, const std::filesystem::path& cwd,
                        const std::filesystem::path& log) {
  ChildOptions options;
  if (switch_user) {
    options.uid = uid;
    options.gid = uid;
  }
  options.cwd = cwd;
  options.stdout_path = log;
  options.stderr_path = log;
  return options;
}

// Starts smiffy as the leak-check user, writing its document to its own directory.
struct LeakChecker {
  std::filesystem::path directory;
  std::optional<BackgroundChild> child;
};

void start_leak_checker(const BootPlan& plan, const RunSpec& run, bool switch_user, LeakChecker& checker) {
  checker.directory = run.scratch_dir.string() + "-leak-check";
  make_owned_dir(checker.directory, plan.leak_check_uid);
  ChildOptions options = options_as(plan.leak_check_uid, switch_user, checker.directory, run.output_dir / "smiffy.log");
  options.argv = plan.leak_check_argv;
  options.argv.push_back("--json=" + (checker.directory / "smiffy.json").string());
  checker.child.emplace(options);
}

// Stops smiffy with SIGINT, its signal to finish the current scan and write its
// document, and turns that document into the "leak_check" block.
nlohmann::ordered_json stop_leak_checker(const BootPlan& plan, const RunSpec& run, LeakChecker& checker) {
  bool exited_early = !checker.child->running();
  int exit_status = checker.child->stop(SIGINT, 30);
  nlohmann::ordered_json block = {{"tool", "smiffy"}, {"uid", plan.leak_check_uid}, {"exit_status", exit_status}};
  std::string error;
  std::optional<nlohmann::json> document = read_json(checker.directory / "smiffy.json", error);
  if (document) {
    write_file_atomically(run.output_dir / "smiffy.json", document->dump(2) + "\n");
    const nlohmann::json& leaks = document->value("leaks", nlohmann::json::object());
    block["pages_scanned"] = leaks.value("pages_scanned", nlohmann::json(nullptr));
    block["nonzero_pages"] = leaks.value("nonzero_pages", nlohmann::json(nullptr));
    // smiffy's own faults in MAP_NOZERO mappings count in the system-wide nozero_*
    // counters too, and those that got its own page back in nozero_reuse;
    // results.json takes them out.
    block["mapping"] = document->value("parameters", nlohmann::json::object()).value("mapping", "both");
    block["nozero_faults"] = leaks.value("nozero_pages_scanned", nlohmann::json(nullptr));
    block["own_reused_pages"] = leaks.value("own_reused_pages", nlohmann::json(nullptr));
    block["document"] = "runs/" + run.output_dir.filename().string() + "/smiffy.json";
  } else {
    block["error"] = error + "; smiffy said: " + last_line_of(run.output_dir / "smiffy.log");
  }
  if (exited_early) block["exited_early"] = true;
  std::filesystem::remove_all(checker.directory);
  return block;
}

nlohmann::ordered_json base_capture(const RunSpec& run) {
  return {{"schema", kCaptureSchema},
          {"schema_version", kBootPlanVersion},
          {"index", run.index},
          {"workload", run.workload},
          {"arm", run.arm},
          {"warmup", run.warmup},
          {"repetition", run.repetition}};
}

// The "clear_page" block: kprobe hit counts of clear_page_* and the function
// profile (hits and time) of the C functions around them.
nlohmann::ordered_json clear_page_json(const BootEnvironment& environment,
                                       const std::map<std::string, std::int64_t>& hits_before,
                                       const std::map<std::string, std::int64_t>& hits_after,
                                       const std::map<std::string, FunctionStat>& profile) {
  const bool kprobes = environment.kprobes && environment.kprobes->available();
  const bool profiler = environment.profiler->available();
  if (!kprobes && !profiler) {
    return {{"available", false},
            {"reason", "kprobes: " + environment.kprobes_reason + "; function profiler: " +
                           environment.profiler->unavailable_reason()}};
  }
  nlohmann::ordered_json functions = nlohmann::ordered_json::object();
  for (const auto& [name, count] : hits_after) {
    auto before = hits_before.find(name);
    functions[name] = {{"hits", count - (before == hits_before.end() ? 0 : before->second)}, {"source", "kprobe"}};
  }
  for (const auto& [name, stat] : profile) {
    functions[name] = {{"hits", stat.hits},
                       {"total_us", stat.total_us},
                       {"avg_us", stat.avg_us()},
                       {"source", "ftrace function profile"}};
  }
  nlohmann::ordered_json block = {{"source", "kprobe hit counts of clear_page_*, ftrace function profile of "
                                             "kernel_init_pages, clear_subpage and folio_zero_user"},
                                  {"functions", functions}};
  if (!kprobes) block["kprobes_unavailable"] = environment.kprobes_reason;
  if (!profiler) block["profiler_unavailable"] = environment.profiler->unavailable_reason();
  return block;
}

std::vector<std::string> run_exec_argv(const BootPlan& plan, const RunSpec& run, bool switch_user,
                                       const std::filesystem::path& report) {
  std::vector<std::string> argv = {plan.self.string(), kRunExecCommand};
  if (switch_user) {
    argv.insert(argv.end(), {"--uid", std::to_string(plan.workload_uid), "--gid", std::to_string(plan.workload_uid)});
  }
  argv.insert(argv.end(), {"--cwd", run.scratch_dir.string(), "--timeout", std::to_string(run.timeout_s),
                           "--stdout", (run.output_dir / "stdout.log").string(), "--stderr",
                           (run.output_dir / "stderr.log").string(), "--report", report.string(), "--"});
  argv.insert(argv.end(), run.argv.begin(), run.argv.end());
  if (run.json_output) argv.push_back("--json=" + (run.scratch_dir / "workload.json").string());
  return argv;
}

// Gives the scratch directory and everything in it to the workload user.
void chown_tree(const std::filesystem::path& root, unsigned uid) {
  if (geteuid() != 0) return;
  auto give = [uid](const std::filesystem::path& path) {
    if (lchown(path.c_str(), uid, uid) != 0) {
      throw std::runtime_error("chown " + path.string() + " to uid " + std::to_string(uid) + " failed: " +
                               std::strerror(errno));
    }
  };
  give(root);
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) give(entry.path());
}

std::string run_prepare(const RunSpec& run) {
  for (const auto& command : run.prepare) {
    ChildOptions options = options_as(0, false, run.scratch_dir, run.output_dir / "prepare.log");
    options.argv = command;
    options.timeout_s = run.timeout_s;
    ChildResult result = run_child(options);
    if (!result.error.empty() || result.exit_status != 0) {
      return "prepare command '" + command.front() + "' failed (" +
             (result.error.empty() ? "exit status " + std::to_string(result.exit_status) : result.error) +
             "): " + last_line_of(run.output_dir / "prepare.log");
    }
  }
  return "";
}

// Seconds since the previous call, for the capture's "phases_s": where a run's
// time goes besides the workload (start-up of perf and smiffy, profiler set-up).
class PhaseClock {
 public:
  double lap() {
    auto now = std::chrono::steady_clock::now();
    double seconds = std::chrono::duration<double>(now - last_).count();
    last_ = now;
    return seconds;
  }

 private:
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
};

nlohmann::ordered_json capture_run(const BootPlan& plan, const RunSpec& run, BootEnvironment& environment) {
  nlohmann::ordered_json capture = base_capture(run);
  PhaseClock clock;
  nlohmann::ordered_json phases;
  std::filesystem::create_directories(run.output_dir);
  make_owned_dir(run.scratch_dir, plan.workload_uid);

  if (plan.set_thp) {
    std::ofstream thp(kThpEnabled);
    thp << run.thp;
    thp.close();
    if (!thp && run.thp != "never") {
      throw std::runtime_error(std::string{"setting THP to "} + run.thp + " failed: " + kThpEnabled);
    }
  }
  capture["thp"] = current_thp();

  std::string prepare_error = run_prepare(run);
  if (!prepare_error.empty()) throw std::runtime_error(prepare_error);
  if (!run.prepare.empty()) chown_tree(run.scratch_dir, plan.workload_uid);
  phases["prepare"] = clock.lap();

  LeakChecker checker;
  if (run.leak_check) start_leak_checker(plan, run, environment.switch_user, checker);
  phases["leak_check_start"] = clock.lap();

  std::filesystem::path report = run.output_dir / "exec.json";
  ChildOptions options;
  options.argv = run_exec_argv(plan, run, environment.switch_user, report);
  if (environment.perf.available) {
    std::vector<std::string> prefix = perf_record_prefix(environment.perf.perf, run.output_dir / "perf.data");
    options.argv.insert(options.argv.begin(), prefix.begin(), prefix.end());
  }
  options.stdout_path = run.output_dir / "perf.log";
  options.stderr_path = run.output_dir / "perf.log";
  // run-exec enforces the run's limit; this one catches a hung perf.
  options.timeout_s = run.timeout_s + 120;

  std::map<std::string, std::int64_t> hits_before;
  if (environment.kprobes) hits_before = environment.kprobes->read();
  Vmstat before = read_vmstat();
  std::map<std::string, FunctionStat> profile_before = environment.profiler->read();
  phases["counters_before"] = clock.lap();
  ChildResult outer = run_child(options);
  phases["command"] = clock.lap();
  std::map<std::string, FunctionStat> profile =
      profile_difference(profile_before, environment.profiler->read());
  Vmstat after = read_vmstat();
  std::map<std::string, std::int64_t> hits_after;
  if (environment.kprobes) hits_after = environment.kprobes->read();
  phases["counters_after"] = clock.lap();

  if (checker.child) capture["leak_check"] = stop_leak_checker(plan, run, checker);
  phases["leak_check_stop"] = clock.lap();
  capture["phases_s"] = phases;

  std::string error;
  std::optional<nlohmann::json> exec = read_json(report, error);
  if (!exec) {
    capture["status"] = outer.timed_out ? "timeout" : "failed";
    capture["error"] = "the run-exec wrapper wrote no report (" + error + "): " +
                       (outer.error.empty() ? last_line_of(run.output_dir / "perf.log") : outer.error);
    return capture;
  }
  capture["exit_status"] = (*exec)["exit_status"];
  capture["wall_s"] = (*exec)["wall_s"];
  capture["rusage"] = (*exec)["rusage"];
  capture["hw_counters"] = (*exec)["hw_counters"];
  capture["vmstat_delta"] = selected_vmstat_json(vmstat_delta(before, after));

  capture["clear_page"] = clear_page_json(environment, hits_before, hits_after, profile);
  capture["perf"] = environment.perf.available
                        ? nlohmann::ordered_json{{"available", true}, {"event", "cpu-clock"}}
                        : nlohmann::ordered_json{{"available", false}, {"reason", environment.perf.reason}};

  if (run.json_output) {
    std::string json_error;
    std::optional<nlohmann::json> workload = read_json(run.scratch_dir / "workload.json", json_error);
    if (workload) {
      write_file_atomically(run.output_dir / "workload.json", workload->dump(2) + "\n");
      capture["workload_document"] = *workload;
    } else {
      capture["workload_error"] = json_error;
    }
  }

  bool timed_out = (*exec).value("timed_out", false);
  int exit_status = (*exec).value("exit_status", -1);
  if (timed_out) {
    capture["status"] = "timeout";
    capture["error"] = "the workload ran longer than " + std::to_string(run.timeout_s) + " s and was killed";
  } else if (exit_status != 0) {
    std::string start_error = (*exec).value("error", "");
    capture["status"] = "failed";
    capture["error"] = start_error.empty() ? "exit status " + std::to_string(exit_status) + ": " +
                                                 last_line_of(run.output_dir / "stderr.log")
                                           : start_error;
  } else if (run.json_output && !capture.contains("workload_document")) {
    capture["status"] = "failed";
    capture["error"] = capture["workload_error"];
  } else {
    capture["status"] = "ok";
  }
  return capture;
}

void run_benchmark(const BootPlan& plan, const BenchmarkSpec& benchmark, bool switch_user,
                   const std::function<void(const std::string&)>& log) {
  std::filesystem::path directory = benchmark.output.parent_path();
  std::filesystem::create_directories(directory);
  // The benchmark runs as the workload user, who may not write the share's files.
  std::filesystem::path private_dir = "/tmp/nozero-bench-benchmark-" + benchmark.name;
  make_owned_dir(private_dir, plan.workload_uid);
  std::filesystem::path log_path = directory / (benchmark.name + ".log");
  ChildOptions options = options_as(plan.workload_uid, switch_user, private_dir, log_path);
  options.argv = benchmark.argv;
  options.argv.push_back("--benchmark_out=" + (private_dir / "benchmark.json").string());
  options.argv.push_back("--benchmark_out_format=json");
  options.timeout_s = benchmark.timeout_s;
  ChildResult result = run_child(options);
  nlohmann::ordered_json status = {{"name", benchmark.name},
                                   {"exit_status", result.exit_status},
                                   {"timed_out", result.timed_out},
                                   {"wall_s", result.wall_s}};
  if (!result.error.empty()) status["error"] = result.error;
  std::string error;
  std::optional<nlohmann::json> document = read_json(private_dir / "benchmark.json", error);
  if (document) {
    write_file_atomically(benchmark.output, document->dump(2) + "\n");
  } else {
    status["error"] = error + ": " + last_line_of(log_path);
  }
  write_file_atomically(directory / (benchmark.name + ".status.json"), status.dump(2) + "\n");
  std::filesystem::remove_all(private_dir);
  log("benchmark " + benchmark.name + ": exit status " + std::to_string(result.exit_status));
}

}  // namespace

nlohmann::ordered_json failed_capture(const RunSpec& run, const std::string& error) {
  nlohmann::ordered_json capture = base_capture(run);
  capture["status"] = "failed";
  capture["error"] = error;
  return capture;
}

int run_boot_plan(const BootPlan& plan, const std::function<void(const std::string&)>& log) {
  std::filesystem::create_directories(plan.boot_dir);
  BootEnvironment environment;
  environment.switch_user = geteuid() == 0;
  if (plan.profile) {
    environment.perf = probe_perf(plan.boot_dir);
  } else {
    environment.perf.reason = "profiling is off in this suite (profile = false)";
  }
  environment.profiler.emplace(plan.profile ? plan.profiled_functions : std::vector<std::string>{},
                               plan.mount_tracefs);
  if (!plan.profile) {
    environment.kprobes_reason = "profiling is off in this suite (profile = false)";
  } else if (std::optional<std::filesystem::path> tracefs = find_tracefs()) {
    environment.kprobes = std::make_unique<KprobeHitCounter>(*tracefs, plan.clear_page_functions);
    environment.kprobes_reason = environment.kprobes->unavailable_reason();
  } else {
    environment.kprobes_reason = "tracefs is not mounted";
  }
  environment.counters = ChildCounters::probe();
  // Once, before anything else runs: see FunctionProfiler::start.
  if (environment.profiler->available()) environment.profiler->start();
  write_file_atomically(plan.boot_dir / "guest.json", environment_json(plan, environment).dump(2) + "\n");
  if (std::optional<std::string> kallsyms = read_text_file("/proc/kallsyms")) {
    write_file_atomically(plan.boot_dir / "kallsyms", *kallsyms);
  }
  log("environment written to " + (plan.boot_dir / "guest.json").string());

  for (const RunSpec& run : plan.runs) {
    nlohmann::ordered_json capture;
    try {
      capture = capture_run(plan, run, environment);
    } catch (const std::exception& error) {
      capture = failed_capture(run, error.what());
    }
    std::error_code ignored;
    std::filesystem::remove_all(run.scratch_dir, ignored);
    try {
      std::filesystem::create_directories(run.output_dir);
      write_file_atomically(run.output_dir / "capture.json", capture.dump(2) + "\n");
    } catch (const std::exception& error) {
      log(std::string{"cannot write the capture of run "} + std::to_string(run.index) + ": " + error.what());
      return 1;
    }
    std::ostringstream line;
    line << kProgressPrefix << run.index << " " << capture.value("status", "failed") << " "
         << capture.value("wall_s", 0.0);
    log(line.str());
    if (interrupt_received()) {
      log("interrupted: stopping after run " + std::to_string(run.index));
      return 130;
    }
  }
  for (const BenchmarkSpec& benchmark : plan.benchmarks) {
    run_benchmark(plan, benchmark, environment.switch_user, log);
  }
  return 0;
}

namespace {

struct RunExecOptions {
  std::optional<unsigned> uid;
  std::optional<unsigned> gid;
  std::string cwd;
  unsigned timeout_s = 0;
  std::string stdout_path;
  std::string stderr_path;
  std::string report;
  std::vector<std::string> command;
};

int run_exec(const RunExecOptions& options) {
  ChildCounters counters = ChildCounters::probe();
  ChildOptions child;
  child.argv = options.command;
  child.uid = options.uid;
  child.gid = options.gid;
  child.cwd = options.cwd;
  child.stdout_path = options.stdout_path;
  child.stderr_path = options.stderr_path;
  child.timeout_s = options.timeout_s;
  if (counters.available()) child.before_exec = [&counters](pid_t pid) { counters.attach(pid); };
  ChildResult result = run_child(child);
  nlohmann::ordered_json report = {{"exit_status", result.exit_status},
                                   {"timed_out", result.timed_out},
                                   {"wall_s", result.wall_s},
                                   {"rusage", to_json(result.usage)},
                                   {"hw_counters", counters.read()}};
  if (!result.error.empty()) report["error"] = result.error;
  write_file_atomically(options.report, report.dump(2) + "\n");
  return result.exit_status < 0 ? 125 : result.exit_status;
}

}  // namespace

void add_guest_commands(CLI::App& app) {
  auto plan_path = std::make_shared<std::string>();
  auto* guest = app.add_subcommand(kGuestRunCommand, "run the runs of a boot plan (used inside the guest)");
  guest->group("");  // hidden from --help
  guest->add_option("--plan", *plan_path, "boot plan written by `nozero-bench run`")->required();
  guest->callback([plan_path] {
    std::ifstream file(*plan_path);
    if (!file) throw CommandError("cannot read the boot plan " + *plan_path);
    BootPlan plan;
    try {
      plan = boot_plan_from_json(nlohmann::json::parse(file));
    } catch (const std::exception& error) {
      throw CommandError("invalid boot plan " + *plan_path + ": " + error.what());
    }
    auto log = [](const std::string& line) { std::cout << line << std::endl; };
    int status = run_boot_plan(plan, log);
    if (status != 0) throw CommandError("the guest runner failed", status);
  });

  auto exec = std::make_shared<RunExecOptions>();
  auto* wrapper = app.add_subcommand(kRunExecCommand, "run one measured command (used by guest-run)");
  wrapper->group("");
  wrapper->add_option("--uid", exec->uid, "user to run the command as");
  wrapper->add_option("--gid", exec->gid, "group to run the command as");
  wrapper->add_option("--cwd", exec->cwd, "working directory")->required();
  wrapper->add_option("--timeout", exec->timeout_s, "time limit in seconds (0: none)");
  wrapper->add_option("--stdout", exec->stdout_path, "file for the command's stdout")->required();
  wrapper->add_option("--stderr", exec->stderr_path, "file for the command's stderr")->required();
  wrapper->add_option("--report", exec->report, "JSON file for exit status, wall time and rusage")->required();
  wrapper->add_option("command", exec->command, "the command")->required();
  wrapper->callback([exec] {
    // The wrapper exits with the command's status, like `time` or `nice`, because
    // perf record passes it on. The report file carries the details.
    int status = run_exec(*exec);
    std::cout.flush();
    std::exit(status);
  });
}

}  // namespace nozero::run

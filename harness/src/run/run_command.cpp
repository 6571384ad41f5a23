// `nozero-bench run`: the A/B suite in the guest, the host reference runs, the
// projection and the summary.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <random>

#include "commands.h"
#include "core/errors.h"
#include "core/files.h"
#include "core/process.h"
#include "kernel/build.h"
#include "run/cc_tree.h"
#include "run/guest_runner.h"
#include "run/host_executor.h"
#include "run/perf_profile.h"
#include "run/programs.h"
#include "run/projection.h"
#include "run/results.h"
#include "run/summary.h"
#include "run/suite.h"
#include "run/suite_runner.h"
#include "vm/qemu_executor.h"

namespace nozero {
namespace {

using run::Suite;

struct RunCommandOptions {
  std::string suite = "default";
  std::string out;
  std::string resume;
  std::optional<std::uint64_t> seed;
  bool host = false;
  bool no_host_reference = false;
  bool list = false;
  bool dry_run = false;
  std::string kernel;
  std::string unpatched_kernel;
  std::string kernel_cache;
  std::string accelerator = "auto";
};

std::atomic<bool> g_stop_requested{false};

void request_stop(int) { g_stop_requested = true; }

void log_line(const std::string& line) { std::cerr << "nozero-bench run: " << line << std::endl; }

vm::Accelerator parse_accelerator(const std::string& name) {
  if (name == "auto") return vm::Accelerator::automatic;
  if (name == "kvm") return vm::Accelerator::kvm;
  if (name == "tcg") return vm::Accelerator::tcg;
  throw CommandError("invalid --accelerator '" + name + "'; accepted values: auto, kvm, tcg");
}

std::filesystem::path default_result_dir(const Suite& suite, bool host) {
  std::string stamp = utc_timestamp(std::chrono::system_clock::now());
  std::string compact;
  for (char c : stamp) {
    if (c != '-' && c != ':') compact += c;
  }
  return std::filesystem::absolute("results") / (compact + "-" + suite.name + (host ? "-host" : ""));
}

// The binaries the suite runs, which must exist in the build's bin directory.
std::vector<std::string> needed_binaries(const Suite& suite, bool host) {
  std::vector<std::string> names;
  auto add = [&names](std::string_view name) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.emplace_back(name);
  };
  for (const run::Workload& workload : suite.workloads) {
    const run::Program& program = *run::find_program(workload.program);
    if (!program.binary.empty()) add(program.binary);
    if (!host && workload.nozero == "exec") add(run::kNozeroExecBinary);
  }
  if (!host && suite.leak_check.enabled) add(run::kSmiffyBinary);
  for (const run::Benchmark& benchmark : suite.benchmarks) add(benchmark.binary);
  return names;
}

// Builds the missing binaries with CMake when bin_dir belongs to a build tree, as
// scripts/build lays it out; otherwise names them and the fix.
void ensure_binaries(const std::filesystem::path& bin_dir, const std::vector<std::string>& names) {
  std::vector<std::string> missing;
  for (const std::string& name : names) {
    if (access((bin_dir / name).c_str(), X_OK) != 0) missing.push_back(name);
  }
  if (missing.empty()) return;
  std::filesystem::path build_dir = bin_dir.parent_path();
  if (!std::filesystem::exists(build_dir / "CMakeCache.txt")) {
    throw CommandError("missing programs in " + bin_dir.string() + ": " + shell_quote(missing) +
                       "; build them with scripts/build");
  }
  std::vector<std::string> argv = {"cmake", "--build", build_dir.string(), "--target"};
  argv.insert(argv.end(), missing.begin(), missing.end());
  log_line("building " + shell_quote(missing));
  RunOptions options;
  options.on_output = [](std::string_view chunk) { std::cerr << chunk; };
  ProcessResult result = run_process(argv, options);
  if (result.exit_status != 0) {
    throw CommandError("building " + shell_quote(missing) + " failed (exit status " +
                           std::to_string(result.exit_status) + "); run `" + shell_quote(argv) + "` to see why",
                       kExitFailure);
  }
}

run::KernelImage kernel_from_build(const kernel::KernelBuild& build) {
  return {build.image, build.release, build.series_hash, build.patched, build.key};
}

// The kernel for one arm group: the given image, or the cached or new build.
run::KernelImage resolve_kernel(const std::string& image, bool patched, const std::string& cache_dir) {
  if (!image.empty()) {
    if (!std::filesystem::exists(image)) throw CommandError("kernel image " + image + " does not exist");
    run::KernelImage kernel;
    kernel.image = std::filesystem::absolute(image);
    kernel.patched = patched;
    kernel.release = "given as " + image;
    return kernel;
  }
  kernel::BuildOptions options;
  options.apply_patches = patched;
  options.cache_dir = cache_dir;
  options.progress = [](std::string_view line) { std::cerr << "nozero-bench run: kernel: " << line << "\n"; };
  if (auto cached = kernel::find_build(options)) return kernel_from_build(*cached);
  log_line(std::string{"building the "} + (patched ? "patched" : "unpatched") +
           " guest kernel (4 to 9 minutes of CPU on 2 idle cores, far longer on a busy machine; cached "
           "afterwards)");
  return kernel_from_build(kernel::build_kernel(options));
}

// The suite as `run --host` runs it: every workload in the baseline arm only, no
// leak checker (the host kernel never recycles pages).
Suite host_suite(Suite suite, std::optional<unsigned> repetitions, std::optional<unsigned> warmups) {
  suite.leak_check.enabled = false;
  for (run::Workload& workload : suite.workloads) {
    workload.arms = {run::Arm::baseline};
    workload.leak_check = false;
    if (repetitions) workload.repetitions = *repetitions;
    if (warmups) workload.warmups = *warmups;
  }
  return suite;
}

std::uint64_t choose_seed(const Suite& suite, const std::optional<std::uint64_t>& requested) {
  if (requested) return *requested;
  if (suite.seed) return *suite.seed;
  std::random_device device;
  return (static_cast<std::uint64_t>(device()) << 32) | device();
}

void print_schedule(const run::Schedule& schedule) {
  for (const run::Boot& boot : schedule.boots) {
    std::cout << "boot " << boot.index << " (" << run::to_string(boot.kernel) << " kernel)\n";
    for (std::size_t index : boot.runs) {
      const run::PlannedRun& planned = schedule.runs[index];
      std::cout << "  " << index << "  " << planned.workload << "  " << run::to_string(planned.arm)
                << (planned.warmup ? "  warmup " : "  repetition ") << planned.repetition << "\n";
    }
  }
  std::cout << "seed " << schedule.seed << ", " << schedule.runs.size() << " runs in " << schedule.boots.size()
            << (schedule.boots.size() == 1 ? " boot\n" : " boots\n");
}

// Prints the recorded runs that a resume would run again (--resume with --dry-run).
void print_pending(const std::filesystem::path& directory) {
  nlohmann::ordered_json recorded = run::load_results(directory / run::kResultsFile);
  std::size_t pending = 0;
  for (const nlohmann::ordered_json& entry : recorded["runs"]) {
    if (!run::needs_rerun(entry)) continue;
    ++pending;
    std::cout << "  " << entry.value("index", std::size_t{0}) << "  " << entry.value("workload", "") << "  "
              << entry.value("arm", "") << (entry.value("warmup", false) ? "  warmup " : "  repetition ")
              << entry.value("repetition", 0) << "  " << entry.value("status", "") << "\n";
  }
  std::cout << "resume of " << directory.string() << ": " << pending << " of " << recorded["runs"].size()
            << " runs to run again, in the recorded order (seed "
            << recorded["context"].value("seed", std::uint64_t{0}) << ")\n";
}

run::Toolbox make_toolbox(const Suite& suite) {
  run::Toolbox toolbox;
  toolbox.self = std::filesystem::read_symlink("/proc/self/exe");
  toolbox.bin_dir = executable_dir();
  bool needs_tree = std::any_of(suite.workloads.begin(), suite.workloads.end(),
                                [](const run::Workload& workload) { return workload.program == "make"; });
  if (needs_tree) {
    toolbox.linux_tools_tree =
        run::prepare_linux_tools_tree(kernel::kDefaultSource, cache_root() / "cc-trees", log_line);
  }
  return toolbox;
}

std::filesystem::path host_perf() {
  std::optional<std::filesystem::path> perf = run::find_in_path("perf");
  if (!perf) log_line("perf is not installed: profiles are recorded as unavailable");
  return perf.value_or("");
}

// Runs (or resumes) the host part: the suite's workloads on this machine and the
// host benchmarks. Returns false when interrupted.
bool run_on_host(const Suite& suite, const std::filesystem::path& directory, std::uint64_t seed,
                 const run::Toolbox& toolbox, nlohmann::ordered_json& results) {
  run::HostExecutor executor;
  run::SuiteRunOptions options;
  options.result_dir = directory;
  options.toolbox = toolbox;
  options.host_label = "host";
  options.patched = run::KernelImage{"", "host kernel", "", false, ""};
  options.perf = host_perf();
  options.stop_requested = &g_stop_requested;
  options.log = log_line;
  run::SuiteRunner runner(suite, options, executor);
  if (std::filesystem::exists(directory / run::kResultsFile)) {
    runner.resume();
  } else {
    runner.start(seed);
  }
  bool finished = runner.run_pending();
  if (finished && runner.benchmarks_pending()) runner.run_benchmarks();
  results = runner.results();
  return finished && !g_stop_requested;
}

int finish(const nlohmann::ordered_json& results, const std::filesystem::path& directory, bool interrupted) {
  std::cout << run::format_summary(results);
  if (results.contains("projection")) std::cout << run::format_projection(results["projection"]);
  std::cout << "Results: " << (directory / run::kResultsFile).string() << "\n";
  long long leaks = run::total_leaks(results);
  std::size_t unfinished = run::unfinished_runs(results);
  if (interrupted) {
    std::cerr << "nozero-bench run: interrupted; everything measured so far is in " << directory.string()
              << "; continue with: nozero-bench run --resume " << directory.string() << "\n";
    return 130;
  }
  if (leaks > 0) {
    std::cerr << "nozero-bench run: smiffy found " << leaks
              << " non-zero page(s): MAP_NOZERO handed another user's data to the leak checker\n";
    return kExitFailure;
  }
  if (unfinished > 0) {
    std::cerr << "nozero-bench run: " << unfinished << " run(s) did not finish; see their \"error\" in "
              << (directory / run::kResultsFile).string() << " and rerun them with --resume "
              << directory.string() << "\n";
    return kExitFailure;
  }
  return kExitOk;
}

int run_command(const RunCommandOptions& options) {
  if (options.list) {
    for (const run::BuiltinSuite& builtin : run::builtin_suites()) {
      Suite suite = run::load_suite(std::string{builtin.name});
      std::cout << builtin.name << ": " << suite.description << "\n";
    }
    return kExitOk;
  }

  std::filesystem::path directory;
  Suite suite;
  if (!options.resume.empty()) {
    directory = std::filesystem::absolute(options.resume);
    if (!std::filesystem::is_directory(directory)) {
      throw CommandError("--resume " + options.resume + ": no such directory; give the result directory that " +
                         "`nozero-bench run` printed when it started");
    }
    if (!std::filesystem::exists(directory / "suite.toml")) {
      throw CommandError(directory.string() + " has no suite.toml; --resume takes a directory that " +
                         "`nozero-bench run` created");
    }
    suite = run::load_suite((directory / "suite.toml").string());
    nlohmann::ordered_json recorded = run::load_results(directory / run::kResultsFile);
    suite.name = recorded["context"]["suite"].value("name", suite.name);
  } else {
    suite = run::load_suite(options.suite);
    directory = options.out.empty() ? default_result_dir(suite, options.host) : std::filesystem::absolute(options.out);
  }
  const bool host_only = options.host || (!options.resume.empty() &&
                                          run::load_results(directory / run::kResultsFile)["context"].value(
                                              "measured_on", "") == "host");
  std::uint64_t seed = choose_seed(suite, options.seed);

  if (options.dry_run && !options.resume.empty()) {
    print_pending(directory);
    return kExitOk;
  }
  if (options.dry_run) {
    Suite planned = host_only ? host_suite(suite, std::nullopt, std::nullopt) : suite;
    print_schedule(run::make_schedule(planned, seed));
    return kExitOk;
  }

  std::filesystem::path bin_dir = executable_dir();
  ensure_binaries(bin_dir, needed_binaries(suite, host_only));
  run::Toolbox toolbox = make_toolbox(suite);
  std::cerr << "nozero-bench run: suite " << suite.name << ", results in " << directory.string() << std::endl;

  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  if (host_only) {
    nlohmann::ordered_json results;
    bool finished = run_on_host(host_suite(suite, std::nullopt, std::nullopt), directory, seed, toolbox, results);
    return finish(results, directory, !finished);
  }

  run::SuiteRunOptions runner_options;
  runner_options.result_dir = directory;
  runner_options.toolbox = toolbox;
  runner_options.accelerator = parse_accelerator(options.accelerator);
  runner_options.patched = resolve_kernel(options.kernel, true, options.kernel_cache);
  if (suite.uses_arm(run::Arm::unpatched)) {
    runner_options.unpatched = resolve_kernel(options.unpatched_kernel, false, options.kernel_cache);
  }
  runner_options.perf = host_perf();
  runner_options.stop_requested = &g_stop_requested;
  runner_options.log = log_line;

  vm::QemuExecutor executor;
  run::SuiteRunner runner(suite, runner_options, executor);
  if (options.resume.empty()) {
    runner.start(seed);
  } else {
    runner.resume();
  }
  bool finished = runner.run_pending();
  if (finished && runner.benchmarks_pending()) runner.run_benchmarks();
  finished = finished && !g_stop_requested;

  // The host side: reference runs and benchmarks on this machine, then the projection.
  if (finished && !options.no_host_reference && suite.host.repetitions > 0) {
    log_line("measuring the baseline on the host kernel for the projection");
    nlohmann::ordered_json host_results;
    Suite reference = host_suite(suite, suite.host.repetitions, suite.host.warmups);
    finished = run_on_host(reference, directory / "host", seed, toolbox, host_results);
    nlohmann::ordered_json& results = runner.mutable_results();
    results["host_runs"] = host_results["runs"];
    // A resumed run replaces the host entries of the earlier attempt.
    nlohmann::ordered_json benchmarks = nlohmann::ordered_json::array();
    for (auto& benchmark : results["benchmarks"]) {
      if (benchmark.value("measured_on", "") != "host") benchmarks.push_back(std::move(benchmark));
    }
    for (const auto& benchmark : host_results["benchmarks"]) benchmarks.push_back(benchmark);
    results["benchmarks"] = std::move(benchmarks);
    results["context"]["host_reference"] = {{"dir", "host"}, {"measured_on", "host"}};
    results["projection"] = run::make_projection(results, host_results);
    runner.save();
  }
  return finish(runner.results(), directory, !finished);
}

}  // namespace

void add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunCommandOptions>();
  auto* command = app.add_subcommand(
      "run",
      "Run an A/B suite (baseline and MAP_NOZERO arms) in the guest, capture clear_page's cost, and write a "
      "result directory");
  auto* suite = command->add_option("suite", options->suite,
                                     "built-in suite (smoke, default, full) or a suite file [default: default]");
  command->add_option("--out", options->out,
                      "result directory [default: ./results/<UTC time>-<suite>]");
  auto* seed = command
                   ->add_option("--seed", options->seed,
                                "seed of the run order, 0 to 18446744073709551615 [default: the suite's seed, "
                                "else random]")
                   ->check(CLI::Validator(
                       [](std::string& text) -> std::string {
                         if (text.empty() || text.size() > 20 ||
                             text.find_first_not_of("0123456789") != std::string::npos ||
                             (text.size() == 20 && text > "18446744073709551615")) {
                           return "--seed takes a whole number from 0 to 18446744073709551615, not '" + text + "'";
                         }
                         return {};
                       },
                       "UINT64"));
  auto* host = command->add_flag("--host", options->host,
                                 "run the workloads on the host kernel, baseline only (real-hardware timings)");
  command->add_option("--resume", options->resume,
                      "continue the interrupted run in this result directory: reruns its missing, failed and "
                      "timed-out runs")
      ->excludes("--out")
      ->excludes(suite)
      ->excludes(seed)
      ->excludes(host);
  command->add_flag("--no-host-reference", options->no_host_reference,
                    "skip the host baseline runs and the projection");
  command->add_option("--kernel", options->kernel,
                      "patched guest kernel image [default: the cached build, built if missing]")
      ->check(CLI::ExistingFile);
  command->add_option("--unpatched-kernel", options->unpatched_kernel,
                      "kernel image of the unpatched arm [default: the cached --no-patches build]")
      ->check(CLI::ExistingFile);
  command->add_option("--kernel-cache", options->kernel_cache,
                      "kernel cache to take or build the kernels in [default: as `kernel build`]");
  command->add_option("--accelerator", options->accelerator, "auto, kvm or tcg [default: auto]")
      ->check(CLI::IsMember({"auto", "kvm", "tcg"}));
  command->add_flag("--list", options->list, "list the built-in suites and exit");
  command->add_flag("--dry-run", options->dry_run, "print the run order and boots, then exit");
  command->callback([options] {
    // The summary and the reason for a non-zero status are already printed.
    int status = run_command(*options);
    std::cout.flush();
    if (status != kExitOk) std::exit(status);
  });
  run::add_guest_commands(app);
}

}  // namespace nozero

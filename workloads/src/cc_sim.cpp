#include "cc_sim.h"

#include "nozero_exec.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <iostream>
#include <map>
#include <sstream>
#include <system_error>

#include "compiler.h"
#include "nozero/clock.h"
#include "nozero/exit_status.h"
#include "nozero/meminfo.h"

namespace ccsim {
namespace {

namespace fs = std::filesystem;
using nozero::MonotonicClock;

constexpr std::uint64_t kMaxJobs = 1024;
constexpr std::uint64_t kMaxUnits = 1u << 20;
constexpr std::uint64_t kMaxFunctions = 1u << 24;

std::string unit_file(const std::string& dir, std::uint64_t unit) {
  char name[32];
  std::snprintf(name, sizeof name, "unit-%05llu.s", static_cast<unsigned long long>(unit));
  return dir + "/" + name;
}

std::string make_output_dir(const DriverOptions& options) {
  if (!options.output_dir.empty()) {
    fs::create_directories(options.output_dir);
    return options.output_dir;
  }
  const char* tmpdir = std::getenv("TMPDIR");
  std::string pattern = std::string(tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : "/tmp") + "/cc-sim.XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern + " failed; set TMPDIR or -o");
  }
  return pattern;
}

std::string hex(std::uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

// The argv of one child, built before fork so the child only calls async-signal-safe
// functions.
struct ChildCommand {
  std::vector<std::string> strings;
  std::vector<char*> argv;
};

ChildCommand child_command(const DriverOptions& options, std::uint64_t unit, const std::string& output) {
  ChildCommand command;
  command.strings = {"cc-sim",      "--compile-unit", std::to_string(unit), "--seed", std::to_string(options.seed),
                     "--functions", std::to_string(options.functions), "--output", output};
  for (std::string& arg : command.strings) command.argv.push_back(arg.data());
  command.argv.push_back(nullptr);
  return command;
}

[[noreturn]] void child_fail(const char* message, int status) {
  ssize_t ignored = ::write(STDERR_FILENO, message, std::strlen(message));
  (void)ignored;
  ::_exit(status);
}

pid_t spawn_unit(const ChildCommand& command, const std::string& executable, bool set_nozero) {
  pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork failed");
  if (pid > 0) return pid;

  if (set_nozero && nozero::request_process_nozero()) {
    child_fail("cc-sim: error: prctl(PR_SET_NOZERO, 1) failed in a compile unit\n", nozero::kExitRunFailed);
  }
  ::execv(executable.c_str(), command.argv.data());
  child_fail("cc-sim: error: execv of the compile unit failed\n", 127);
}

int exit_status_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

void add_driver_options(CLI::App& app, DriverOptions& options, UnitOptions& unit_options) {
  nozero::cli::add_count_option(app, "-j,--jobs", options.jobs, 1, kMaxJobs, "Compile units run in parallel");
  nozero::cli::add_count_option(app, "-u,--units", options.units, 1, kMaxUnits, "Compile units (child processes)");
  nozero::cli::add_count_option(app, "-f,--functions", options.functions, 1, kMaxFunctions,
                                "Functions generated per unit; the unit's memory and time grow with it");
  nozero::cli::add_count_option(app, "--seed", options.seed, 0, std::numeric_limits<std::int64_t>::max(),
                                "Seed of the generated sources; equal seeds give equal output files");
  app.add_flag("-N,--nozero", options.nozero,
               "Run every unit with the process-wide MAP_NOZERO opt-in (prctl PR_SET_NOZERO before exec, as "
               "nozero-exec does)");
  app.add_option("-o,--output-dir", options.output_dir,
                 "Directory for the output files, kept afterwards (default: a new directory under $TMPDIR or "
                 "/tmp, removed afterwards)");
  app.add_flag("--keep-output", options.keep_output, "Keep the default output directory");
  nozero::cli::add_json_option(app, options.json);

  // Child mode, used by the driver itself.
  nozero::cli::add_count_option(app, "--compile-unit", unit_options.unit, 0, kMaxUnits,
                                "Compile one unit and exit (used by the driver)")
      ->group("");
  app.add_option("--output", unit_options.output, "Output file of --compile-unit")->group("");
}

void validate(const DriverOptions& options, std::optional<std::uint64_t> mem_available, std::ostream& warnings) {
  std::uint64_t parallel = std::min(options.jobs, options.units);
  std::string purpose = std::to_string(parallel) + " units at once (-j), an estimated " +
                        nozero::format_bytes(kBytesPerFunction) + " per function each";
  nozero::cli::require_memory({"-f,--functions", options.functions, 1, parallel * kBytesPerFunction, purpose},
                              mem_available, warnings);
}

DriverResult run_driver(const DriverOptions& options, const nozero::NozeroSupport& support,
                        const std::string& executable, std::ostream& log) {
  DriverResult result;
  result.output_dir = make_output_dir(options);
  result.output_kept = options.keep_output || !options.output_dir.empty();
  result.processes.resize(options.units);
  bool set_nozero = options.nozero && support.support != nozero::KernelSupport::not_supported;
  if (set_nozero) {
    // The units' heap comes back uncleared, and glibc's calloc() would pass that
    // on: they get the calloc() that clears, as under nozero-exec.
    std::string error;
    std::optional<std::string> library = nozero_exec::calloc_library(error);
    if (!library) throw std::runtime_error(error);
    std::string preload = nozero_exec::preload_value(*library, std::getenv("LD_PRELOAD"));
    if (::setenv("LD_PRELOAD", preload.c_str(), 1) != 0) {
      throw std::system_error(errno, std::generic_category(), "setting LD_PRELOAD for the compile units failed");
    }
  }

  struct Running {
    std::uint64_t unit;
    MonotonicClock::time_point start;
  };
  std::map<pid_t, Running> running;
  std::uint64_t next = 0;
  nozero::ResourceUsage usage_start = nozero::capture_rusage(RUSAGE_CHILDREN);
  auto start = MonotonicClock::now();

  while (next < options.units || !running.empty()) {
    while (running.size() < options.jobs && next < options.units) {
      ChildCommand command = child_command(options, next, unit_file(result.output_dir, next));
      pid_t pid = spawn_unit(command, executable, set_nozero);
      running.emplace(pid, Running{next, MonotonicClock::now()});
      ++next;
    }

    int status = 0;
    struct rusage usage {};
    pid_t pid = ::wait4(-1, &status, 0, &usage);
    if (pid < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "wait4 failed");
    }
    auto found = running.find(pid);
    if (found == running.end()) continue;
    ProcessRecord& record = result.processes[found->second.unit];
    record.unit = found->second.unit;
    record.wall_s = nozero::seconds_between(found->second.start, MonotonicClock::now());
    record.exit_status = exit_status_of(status);
    record.usage = nozero::from_rusage(usage);
    if (record.exit_status != 0) {
      ++result.failed_units;
      log << "cc-sim: error: unit " << record.unit << " exited with status " << record.exit_status << "\n";
    }
    running.erase(found);
  }
  result.wall_s = nozero::seconds_between(start, MonotonicClock::now());
  result.children_usage = nozero::usage_between(usage_start, nozero::capture_rusage(RUSAGE_CHILDREN));

  // The driver hashes the files itself, so a unit that wrote the wrong bytes shows.
  result.output_fnv1a64 = fnv1a64("");
  for (ProcessRecord& record : result.processes) {
    std::ifstream file(unit_file(result.output_dir, record.unit), std::ios::binary);
    std::stringstream contents;
    contents << file.rdbuf();
    std::string text = contents.str();
    record.output_bytes = text.size();
    record.output_fnv1a64 = fnv1a64(text);
    result.output_fnv1a64 = fnv1a64(text, result.output_fnv1a64);
  }
  if (!result.output_kept) fs::remove_all(result.output_dir);
  return result;
}

void add_to_report(nozero::WorkloadReport& report, const DriverResult& result) {
  using nozero::Better;
  std::vector<double> wall;
  std::vector<double> faults;
  for (const ProcessRecord& record : result.processes) {
    wall.push_back(record.wall_s);
    faults.push_back(static_cast<double>(record.usage.minflt));
  }
  auto mean = [](const std::vector<double>& values) {
    double sum = 0;
    for (double value : values) sum += value;
    return values.empty() ? 0.0 : sum / static_cast<double>(values.size());
  };
  double units = static_cast<double>(result.processes.size());
  report.add_metric("wall_s", result.wall_s, "s", Better::lower);
  report.add_metric("units_per_s", result.wall_s > 0 ? units / result.wall_s : 0, "units/s", Better::higher);
  report.add_metric("unit_wall_s", mean(wall), "s", Better::lower);
  report.add_metric("minflt_per_unit", mean(faults), "faults", Better::lower);
  report.set_samples("unit_wall_s", wall);
  report.set_samples("minflt_per_unit", faults);
  report.set_rusage(result.children_usage, "child processes (the compile units)");

  nlohmann::ordered_json processes = nlohmann::ordered_json::array();
  for (const ProcessRecord& record : result.processes) {
    nlohmann::ordered_json entry{{"unit", record.unit},
                                 {"exit_status", record.exit_status},
                                 {"wall_s", record.wall_s},
                                 {"output_bytes", record.output_bytes},
                                 {"output_fnv1a64", hex(record.output_fnv1a64)}};
    nlohmann::ordered_json usage = nozero::to_json(record.usage);
    for (const auto& [key, value] : usage.items()) entry[key] = value;
    processes.push_back(entry);
  }
  report.section("processes") = processes;
  report.section("output") = {{"directory", result.output_dir},
                              {"kept", result.output_kept},
                              {"fnv1a64", hex(result.output_fnv1a64)},
                              {"failed_units", result.failed_units}};
}

int cc_sim_main(int argc, char** argv) {
  CLI::App app{
      "cc-sim: a compiler-like workload. The driver runs -u compile units as child processes, -j at a time, "
      "like make -jN. Each unit generates a program, lexes, parses, resolves names through scoped symbol "
      "tables, lowers to IR, optimises, writes an assembly-like output file and exits. Deterministic for a "
      "given --seed."};
  nozero::cli::configure_app(app, "cc-sim");
  DriverOptions options;
  UnitOptions unit_options;
  add_driver_options(app, options, unit_options);

  return nozero::cli::run_program(app, argc, argv, [&] {
    if (app.get_option("--compile-unit")->count() > 0) {
      if (unit_options.output.empty()) throw nozero::cli::UsageError("--compile-unit needs --output FILE");
      compile_unit(options.seed, unit_options.unit, options.functions, unit_options.output);
      return nozero::kExitOk;
    }

    validate(options, nozero::mem_available_bytes(), std::cerr);
    nozero::cli::validate_json_destination(options.json);
    std::ostream& text = nozero::cli::text_stream(options.json);
    nozero::NozeroSupport support = nozero::detect_nozero_support();
    if (options.nozero) {
      std::string warning = nozero::unsupported_warning(support);
      if (!warning.empty()) std::cerr << "cc-sim: warning: " << warning << "\n";
    }

    DriverResult result = run_driver(options, support, "/proc/self/exe", std::cerr);
    text << options.units << " units, " << options.jobs << " at a time: " << result.wall_s << " s, "
         << result.children_usage.minflt << " minor faults, " << result.children_usage.stime_s
         << " s system time, output " << hex(result.output_fnv1a64) << "\n";

    nozero::WorkloadReport report("cc-sim");
    report.parameters() = {{"jobs", options.jobs},
                           {"units", options.units},
                           {"functions", options.functions},
                           {"seed", options.seed},
                           {"nozero", options.nozero},
                           {"output_dir", options.output_dir.empty() ? nullptr : nlohmann::ordered_json(options.output_dir)},
                           {"keep_output", options.keep_output}};
    report.set_nozero(support, options.nozero);
    add_to_report(report, result);
    nozero::write_report(report, options.json);
    return result.failed_units == 0 ? nozero::kExitOk : nozero::kExitRunFailed;
  });
}

}  // namespace ccsim

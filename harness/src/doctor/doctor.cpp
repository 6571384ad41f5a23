#include "doctor/doctor.h"

#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/errors.h"
#include "core/files.h"
#include "core/process.h"
#include "kernel/build.h"
#include "vm/accelerator.h"
#include "vm/qemu_executor.h"

namespace nozero::doctor {
namespace {

constexpr std::chrono::seconds kToolTimeout{20};

std::string first_line(const std::string& text) {
  auto line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
  return line;
}

// Runs a version query; returns nullopt if the program is missing or fails.
struct ToolOutput {
  bool ran = false;
  int status = -1;
  std::string output;
};

ToolOutput query(const std::vector<std::string>& argv) {
  ToolOutput result;
  try {
    RunOptions options;
    options.timeout = kToolTimeout;
    auto process = run_process(argv, options);
    result.ran = true;
    result.status = process.timed_out ? -1 : process.exit_status;
    result.output = process.stdout_text.empty() ? process.stderr_text : process.stdout_text;
  } catch (const CommandError& error) {
    result.output = error.what();
  }
  return result;
}

std::string read_first_line(const std::filesystem::path& path) {
  std::ifstream input(path);
  std::string line;
  std::getline(input, line);
  return line;
}

// A check that `program --version` succeeds: ok with the first output line, or
// missing with the failure.
Check version_check(const std::string& name, const std::string& program, bool required,
                    const std::string& ok_action, const std::string& missing_action) {
  Check check{name, Status::ok, "", ok_action, required};
  auto version = query({program, "--version"});
  if (version.ran && version.status == 0) {
    check.detail = first_line(version.output);
  } else {
    check.status = Status::missing;
    check.detail = program + " --version failed: " + first_line(version.output);
    check.action = missing_action;
  }
  return check;
}

}  // namespace

std::string_view to_string(Status status) {
  switch (status) {
    case Status::ok:
      return "ok";
    case Status::degraded:
      return "degraded";
    case Status::missing:
      return "missing";
  }
  return "unknown";
}

Check check_qemu(const Environment& environment) {
  return version_check("QEMU", environment.qemu, true, "guests boot with " + environment.qemu,
                       "install qemu-system-x86 (scripts/install-deps); without it no guest "
                       "boots, so `vm exec` and `run` cannot work");
}

Check check_kvm(const Environment& environment) {
  Check check{"KVM", Status::ok, "", "", false};

  auto qemu = query({environment.qemu, "--version"});
  if (!qemu.ran || qemu.status != 0) {
    check.status = Status::missing;
    check.detail = "not probed: QEMU is missing";
    check.action = "install qemu-system-x86, then run doctor again";
    return check;
  }
  auto cache = environment.kvm_probe_cache.empty() ? vm::default_probe_cache()
                                                   : environment.kvm_probe_cache;
  // Probe with the newest cached kernel when there is one, as `vm exec` would.
  vm::VmConfig config;
  config.qemu = environment.qemu;
  config.guest_init = environment.guest_init;
  auto kernels = environment.kernel_cache.empty() ? kernel::default_cache_dir()
                                                  : environment.kernel_cache;
  if (auto build = kernel::newest_build(kernels, true)) config.kernel_image = build->image;
  else if (auto unpatched = kernel::newest_build(kernels, false)) config.kernel_image = unpatched->image;
  if (!config.kernel_image.empty()) {
    try {
      vm::find_guest_init(config.guest_init);
    } catch (const CommandError&) {
      config.kernel_image.clear();  // cannot boot a kernel without the init program
    }
  }
  auto choice = vm::choose_accelerator(vm::Accelerator::automatic, config, cache,
                                       environment.reprobe_kvm);

  check.detail = choice.reason;
  if (choice.accelerator == vm::Accelerator::kvm) {
    check.action = "guests run under KVM; results are labelled \"KVM guest\"";
  } else {
    check.status = Status::degraded;
    check.action =
        "guests run under TCG (-accel tcg,thread=multi -cpu max); results are labelled \"TCG "
        "guest\": the CPU is emulated, so guest timings are not hardware timings";
  }
  if (choice.from_cache) check.action += "; `doctor --reprobe` probes again";
  return check;
}

Check check_guest_init(const Environment& environment) {
  Check check{"guest init", Status::ok, "", "", true};
  try {
    check.detail = vm::find_guest_init(environment.guest_init).string();
    check.action = "put in each guest's initramfs as /init";
  } catch (const CommandError& error) {
    check.status = Status::missing;
    check.detail = error.what();
    check.action = "build the project (scripts/build); `vm exec` cannot boot a guest without it";
  }
  return check;
}

Check check_perf(const Environment& environment) {
  return version_check("perf", environment.perf, false,
                       "guests run the host's perf (the host root is their root file system)",
                       "install linux-perf (scripts/install-deps); without it no perf profile of "
                       "clear_page is recorded");
}

Check check_hardware_pmu() {
  Check check{"hardware PMU", Status::ok, "", "", false};
  perf_event_attr attr{};
  attr.size = sizeof attr;
  attr.type = PERF_TYPE_HARDWARE;
  attr.config = PERF_COUNT_HW_CPU_CYCLES;
  attr.disabled = 1;
  attr.exclude_kernel = 1;
  attr.exclude_hv = 1;
  long fd = ::syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
  if (fd >= 0) {
    ::close(static_cast<int>(fd));
    check.detail = "perf_event_open(PERF_COUNT_HW_CPU_CYCLES) succeeded on the host";
    check.action = "host runs can count cycles and instructions; TCG guests still have no PMU";
    return check;
  }
  int error = errno;
  check.status = Status::degraded;
  check.detail = std::string{"perf_event_open(PERF_COUNT_HW_CPU_CYCLES) failed: "} +
                 strerrorname_np(error) + " (" + std::strerror(error) + ")";
  if (error == EACCES || error == EPERM) {
    check.detail += "; /proc/sys/kernel/perf_event_paranoid is " +
                    read_first_line("/proc/sys/kernel/perf_event_paranoid");
    check.action = "run as root or lower perf_event_paranoid; until then hardware counters are "
                   "recorded as unavailable";
  } else {
    check.action = "hardware counters (cycles, instructions) are recorded as unavailable, with "
                   "this reason; profiles use the cpu-clock software event and ftrace timings";
  }
  return check;
}

Check check_tracefs(const Environment& environment) {
  Check check{"tracefs", Status::ok, "", "", false};
  const std::string guest_note =
      "clear_page is timed inside the guest kernel, which is built with function tracing and the "
      "function profiler, so the host's tracefs is not needed";
  auto tracers_file = environment.tracefs / "available_tracers";
  if (!std::filesystem::exists(tracers_file)) {
    std::ifstream filesystems("/proc/filesystems");
    std::string all{std::istreambuf_iterator<char>(filesystems), std::istreambuf_iterator<char>()};
    check.status = Status::degraded;
    check.detail = all.find("tracefs") != std::string::npos
                       ? "the host kernel supports tracefs but it is not mounted at " +
                             environment.tracefs.string()
                       : "the host kernel has no tracefs";
    check.action = guest_note;
    return check;
  }
  std::string tracers = read_first_line(tracers_file);
  bool function_tracer = (" " + tracers + " ").find(" function ") != std::string::npos;
  bool filtering = std::filesystem::exists(environment.tracefs / "set_ftrace_filter");
  bool profiler = std::filesystem::exists(environment.tracefs / "function_profile_enabled");
  check.detail = "available tracers: " + (tracers.empty() ? std::string{"none"} : tracers) +
                 "; function filtering " + (filtering ? "available" : "not available") +
                 "; function profiler " + (profiler ? "available" : "not available");
  if (!function_tracer || !filtering || !profiler) check.status = Status::degraded;
  check.action = check.status == Status::ok ? "host runs can filter and profile functions too"
                                            : guest_note;
  return check;
}

Check check_kernel_source(const Environment& environment) {
  Check check{"kernel source", Status::ok, "", "", false};
  if (!std::filesystem::is_regular_file(environment.kernel_source)) {
    check.status = Status::missing;
    check.detail = environment.kernel_source.string() + " not found";
    check.action = "install " + environment.kernel_source_package +
                   " (scripts/install-deps); until then `kernel build` needs --source TARBALL|DIR "
                   "and only cached kernels can boot";
    return check;
  }
  auto version = query({"dpkg-query", "-W", "-f=${Version}", environment.kernel_source_package});
  check.detail = environment.kernel_source.string();
  if (version.ran && version.status == 0 && !version.output.empty())
    check.detail += " (" + environment.kernel_source_package + " " + first_line(version.output) + ")";
  check.action = "`kernel build` extracts it, applies kernel-patches/linux-6.12 and builds bzImage";
  return check;
}

Check check_kernel_builds(const Environment& environment) {
  Check check{"kernel builds", Status::ok, "", "", false};
  auto cache = environment.kernel_cache.empty() ? kernel::default_cache_dir()
                                                : environment.kernel_cache;
  auto patched = kernel::newest_build(cache, true);
  auto unpatched = kernel::newest_build(cache, false);
  auto describe = [](const std::optional<kernel::KernelBuild>& build, const char* label) {
    return std::string{label} + ": " +
           (build ? build->release + " (" + build->image.string() + ")" : std::string{"none"});
  };
  check.detail = describe(patched, "patched") + "; " + describe(unpatched, "unpatched") + "; cache " +
                 cache.string();
  if (patched && unpatched) {
    check.action = "`vm exec` boots the newest patched build unless given --kernel";
  } else {
    check.status = Status::missing;
    check.action = std::string{"run "} +
                   (patched ? "" : "`nozero-bench kernel build`") +
                   (!patched && !unpatched ? " and " : "") +
                   (unpatched ? "" : "`nozero-bench kernel build --no-patches`") +
                   " (`run` builds missing kernels itself)";
  }
  return check;
}

Check check_python(const Environment& environment) {
  Check check{"python3 + matplotlib", Status::ok, "", "", false};
  auto version = query({environment.python.string(), "-c",
                        "import matplotlib, sys; print(sys.version.split()[0], matplotlib.__version__)"});
  if (version.ran && version.status == 0) {
    std::istringstream words{version.output};
    std::string python_version, matplotlib_version;
    words >> python_version >> matplotlib_version;
    check.detail = environment.python.string() + " " + python_version + " with matplotlib " +
                   matplotlib_version;
    check.action = "reports render their figures with it";
  } else {
    check.status = Status::missing;
    check.detail = environment.python.string() + " cannot import matplotlib: " +
                   first_line(version.output);
    check.action = "install python3-matplotlib (scripts/install-deps); until then reports have "
                   "no figures";
  }
  return check;
}

Check check_chromium(const Environment& environment) {
  return version_check("chromium", environment.chromium, false,
                       "tests render the HTML report in headless Chromium",
                       "install chromium (scripts/install-deps); until then the HTML report "
                       "cannot be rendered for checking");
}

std::vector<Check> run_checks(const Environment& environment) {
  return {check_qemu(environment),        check_kvm(environment),
          check_guest_init(environment),  check_kernel_source(environment),
          check_kernel_builds(environment), check_perf(environment),
          check_hardware_pmu(),           check_tracefs(environment),
          check_python(environment),      check_chromium(environment)};
}

std::string format_text(const std::vector<Check>& checks) {
  utsname names{};
  ::uname(&names);
  std::string text = std::string{"nozero-bench doctor: host "} + names.nodename + ", Linux " +
                     names.release + "\n";
  for (const auto& check : checks) {
    std::string status{to_string(check.status)};
    status.resize(9, ' ');
    std::string name = check.name;
    name.resize(std::max<std::size_t>(name.size(), 21), ' ');
    text += "  " + status + name + check.detail + "\n";
    text += std::string(11, ' ') + "-> " + check.action + "\n";
  }
  return text;
}

nlohmann::json format_json(const std::vector<Check>& checks) {
  utsname names{};
  ::uname(&names);
  nlohmann::json list = nlohmann::json::array();
  for (const auto& check : checks) {
    list.push_back({{"name", check.name},
                    {"status", to_string(check.status)},
                    {"detail", check.detail},
                    {"action", check.action},
                    {"required", check.required}});
  }
  return {{"schema", "nozero-bench/doctor"},
          {"schema_version", 1},
          {"created_at", utc_timestamp(std::chrono::system_clock::now())},
          {"host", {{"hostname", names.nodename}, {"kernel_release", names.release}}},
          {"checks", list}};
}

int exit_status(const std::vector<Check>& checks) {
  for (const auto& check : checks)
    if (check.required && check.status == Status::missing) return kExitFailure;
  return kExitOk;
}

}  // namespace nozero::doctor

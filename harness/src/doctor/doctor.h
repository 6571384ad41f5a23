// `nozero-bench doctor`: what this machine offers the harness, and what the
// harness does about each gap.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nozero::doctor {

enum class Status { ok, degraded, missing };

struct Check {
  std::string name;
  Status status = Status::ok;
  // The finding, with its evidence (version, errno, path).
  std::string detail;
  // The harness's response to a gap, or the fix.
  std::string action;
  // A missing required check makes `doctor` exit with status 1.
  bool required = false;
};

// Everything the checks look at, so tests can point them at fakes.
struct Environment {
  std::string qemu = "qemu-system-x86_64";
  std::string perf = "perf";
  std::filesystem::path python = "/usr/bin/python3";
  std::string chromium = "chromium";
  std::filesystem::path kernel_source = "/usr/src/linux-source-6.12.tar.xz";
  std::string kernel_source_package = "linux-source-6.12";
  std::filesystem::path tracefs = "/sys/kernel/tracing";
  std::filesystem::path kernel_cache;     // empty: the default kernel cache
  std::filesystem::path kvm_probe_cache;  // empty: the default probe cache
  std::filesystem::path guest_init;       // empty: found as `vm exec` finds it
  bool reprobe_kvm = false;
};

std::string_view to_string(Status status);

Check check_qemu(const Environment& environment);
Check check_kvm(const Environment& environment);
Check check_guest_init(const Environment& environment);
Check check_perf(const Environment& environment);
Check check_hardware_pmu();
Check check_tracefs(const Environment& environment);
Check check_kernel_source(const Environment& environment);
Check check_kernel_builds(const Environment& environment);
Check check_python(const Environment& environment);
Check check_chromium(const Environment& environment);

std::vector<Check> run_checks(const Environment& environment);

// The report as text (one block per check) and as JSON (schema "nozero-bench/doctor").
std::string format_text(const std::vector<Check>& checks);
nlohmann::json format_json(const std::vector<Check>& checks);

// 1 if a required check is missing, else 0.
int exit_status(const std::vector<Check>& checks);

}  // namespace nozero::doctor

// `nozero-bench doctor`: each check against fakes, and the real command's output.
#include <gtest/gtest.h>

#include <set>

#include "core/files.h"
#include "core/process.h"
#include "doctor/doctor.h"

#ifndef NOZERO_BENCH_BINARY
#error "NOZERO_BENCH_BINARY must name the nozero-bench executable"
#endif

namespace nozero::doctor {
namespace {

namespace fs = std::filesystem;

TEST(DoctorCheck, MissingQemuIsRequired) {
  Environment environment;
  environment.qemu = "nozero-no-such-qemu";
  auto check = check_qemu(environment);
  EXPECT_EQ(check.status, Status::missing);
  EXPECT_TRUE(check.required);
  EXPECT_NE(check.action.find("install qemu-system-x86"), std::string::npos) << check.action;
  EXPECT_EQ(exit_status({check}), 1);
}

TEST(DoctorCheck, KvmNotProbedWithoutQemu) {
  Environment environment;
  environment.qemu = "nozero-no-such-qemu";
  auto check = check_kvm(environment);
  EXPECT_EQ(check.status, Status::missing);
  EXPECT_EQ(check.detail, "not probed: QEMU is missing");
}

TEST(DoctorCheck, KvmReportsProbeAndFallback) {
  TempDirectory directory("nozero-doctor-test");
  Environment environment;
  environment.kvm_probe_cache = directory.path() / "probe.json";
  environment.kernel_cache = directory.path() / "kernels";
  auto check = check_kvm(environment);
  // Which one depends on the host; either way the detail gives the evidence.
  if (check.status == Status::ok) {
    EXPECT_NE(check.detail.find("KVM probe"), std::string::npos) << check.detail;
  } else {
    EXPECT_EQ(check.status, Status::degraded);
    EXPECT_NE(check.action.find("TCG"), std::string::npos) << check.action;
    EXPECT_TRUE(check.detail.find("KVM probe") != std::string::npos ||
                check.detail.find("/dev/kvm") != std::string::npos)
        << check.detail;
  }
  // A second check reuses the probe result.
  if (fs::exists(environment.kvm_probe_cache)) {
    auto again = check_kvm(environment);
    EXPECT_NE(again.detail.find("cached result of the probe"), std::string::npos) << again.detail;
    EXPECT_NE(again.action.find("--reprobe"), std::string::npos) << again.action;
  }
}

TEST(DoctorCheck, MissingPythonNamesPackage) {
  Environment environment;
  environment.python = "/nonexistent/python3";
  auto check = check_python(environment);
  EXPECT_EQ(check.status, Status::missing);
  EXPECT_FALSE(check.required);
  EXPECT_NE(check.action.find("python3-matplotlib"), std::string::npos);
}

TEST(DoctorCheck, PythonWithMatplotlibFound) {
  auto check = check_python(Environment{});
  ASSERT_EQ(check.status, Status::ok) << check.detail;
  EXPECT_NE(check.detail.find("with matplotlib"), std::string::npos) << check.detail;
}

TEST(DoctorCheck, MissingPerfAndChromium) {
  Environment environment;
  environment.perf = "nozero-no-such-perf";
  environment.chromium = "nozero-no-such-chromium";
  auto perf = check_perf(environment);
  EXPECT_EQ(perf.status, Status::missing);
  EXPECT_NE(perf.action.find("linux-perf"), std::string::npos);
  auto chromium = check_chromium(environment);
  EXPECT_EQ(chromium.status, Status::missing);
  EXPECT_NE(chromium.action.find("install chromium"), std::string::npos);
}

TEST(DoctorCheck, MissingKernelSource) {
  Environment environment;
  environment.kernel_source = "/nonexistent/linux-source-6.12.tar.xz";
  auto check = check_kernel_source(environment);
  EXPECT_EQ(check.status, Status::missing);
  EXPECT_NE(check.action.find("--source"), std::string::npos);
}

TEST(DoctorCheck, EmptyKernelCacheAsksForBuilds) {
  TempDirectory directory("nozero-doctor-test");
  Environment environment;
  environment.kernel_cache = directory.path();
  auto check = check_kernel_builds(environment);
  EXPECT_EQ(check.status, Status::missing);
  EXPECT_NE(check.action.find("`nozero-bench kernel build` and `nozero-bench kernel build "
                              "--no-patches`"),
            std::string::npos)
      << check.action;
}

TEST(DoctorCheck, TracefsWithFunctionFiltering) {
  TempDirectory directory("nozero-doctor-test");
  Environment environment;
  environment.tracefs = directory.path();
  write_file_atomic(directory.path() / "available_tracers", "function_graph function nop\n");
  write_file_atomic(directory.path() / "set_ftrace_filter", "");
  write_file_atomic(directory.path() / "function_profile_enabled", "0\n");
  auto check = check_tracefs(environment);
  EXPECT_EQ(check.status, Status::ok) << check.detail;

  fs::remove(directory.path() / "set_ftrace_filter");
  write_file_atomic(directory.path() / "available_tracers", "nop\n");
  auto limited = check_tracefs(environment);
  EXPECT_EQ(limited.status, Status::degraded);
  EXPECT_NE(limited.detail.find("function filtering not available"), std::string::npos);
  EXPECT_NE(limited.action.find("inside the guest kernel"), std::string::npos);
}

TEST(DoctorCheck, TracefsNotMounted) {
  Environment environment;
  environment.tracefs = "/nonexistent/tracing";
  auto check = check_tracefs(environment);
  EXPECT_EQ(check.status, Status::degraded);
  EXPECT_NE(check.detail.find("/nonexistent/tracing"), std::string::npos) << check.detail;
}

TEST(DoctorCheck, HardwarePmuNamesSystemCall) {
  auto check = check_hardware_pmu();
  EXPECT_NE(check.detail.find("perf_event_open(PERF_COUNT_HW_CPU_CYCLES)"), std::string::npos);
  if (check.status != Status::ok) {
    EXPECT_EQ(check.status, Status::degraded);
    EXPECT_NE(check.action.find("unavailable"), std::string::npos);
  }
}

TEST(DoctorReport, TextShowsEveryActionLine) {
  std::vector<Check> checks = {{"QEMU", Status::ok, "QEMU 7.2", "guests boot", true},
                               {"perf", Status::missing, "not found", "install linux-perf", false}};
  auto text = format_text(checks);
  EXPECT_NE(text.find("  ok       QEMU"), std::string::npos) << text;
  EXPECT_NE(text.find("  missing  perf"), std::string::npos) << text;
  EXPECT_NE(text.find("-> install linux-perf"), std::string::npos) << text;
  EXPECT_EQ(exit_status(checks), 0);
}

TEST(DoctorCommand, JsonListsEveryCheck) {
  TempDirectory directory("nozero-doctor-test");
  RunOptions options;
  options.env = {{"XDG_CACHE_HOME", directory.path().string()}};
  options.timeout = std::chrono::seconds{120};
  auto result = run_process({NOZERO_BENCH_BINARY, "doctor", "--json"}, options);
  ASSERT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_status, 0) << result.stdout_text << result.stderr_text;

  auto report = nlohmann::json::parse(result.stdout_text);
  EXPECT_EQ(report["schema"], "nozero-bench/doctor");
  EXPECT_EQ(report["schema_version"], 1);
  std::set<std::string> names;
  for (const auto& check : report["checks"]) {
    names.insert(check["name"].get<std::string>());
    EXPECT_TRUE(check["status"] == "ok" || check["status"] == "degraded" ||
                check["status"] == "missing")
        << check;
    EXPECT_FALSE(check["detail"].get<std::string>().empty()) << check;
    EXPECT_FALSE(check["action"].get<std::string>().empty()) << check;
  }
  EXPECT_EQ(names, (std::set<std::string>{"QEMU", "KVM", "guest init", "kernel source",
                                          "kernel builds", "perf", "hardware PMU", "tracefs",
                                          "python3 + matplotlib", "chromium"}));
}

TEST(DoctorCommand, TextReportsKvmDecision) {
  TempDirectory directory("nozero-doctor-test");
  RunOptions options;
  options.env = {{"XDG_CACHE_HOME", directory.path().string()}};
  options.timeout = std::chrono::seconds{120};
  auto result = run_process({NOZERO_BENCH_BINARY, "doctor"}, options);
  EXPECT_EQ(result.exit_status, 0) << result.stdout_text << result.stderr_text;
  EXPECT_NE(result.stdout_text.find("nozero-bench doctor: host "), std::string::npos);
  EXPECT_NE(result.stdout_text.find(" KVM "), std::string::npos) << result.stdout_text;
  EXPECT_NE(result.stdout_text.find("-> guests run under "), std::string::npos)
      << result.stdout_text;
}

}  // namespace
}  // namespace nozero::doctor

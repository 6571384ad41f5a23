// `nozero-bench doctor [--json] [--reprobe]`.
#include <cstdlib>
#include <iostream>
#include <memory>

#include "commands.h"
#include "doctor/doctor.h"

namespace nozero {

void add_doctor_command(CLI::App& app) {
  auto* command = app.add_subcommand(
      "doctor",
      "Report what this machine offers (KVM, QEMU, perf, hardware PMU, tracefs, kernel source "
      "and builds, python3 with matplotlib, chromium) and what the harness does about each gap; "
      "exits 1 if something required is missing");
  auto json = std::make_shared<bool>(false);
  auto reprobe = std::make_shared<bool>(false);
  command->add_flag("--json", *json, "Print the report as JSON (schema nozero-bench/doctor)");
  command->add_flag("--reprobe", *reprobe, "Probe KVM again instead of using the cached result");
  command->callback([json, reprobe] {
    doctor::Environment environment;
    environment.reprobe_kvm = *reprobe;
    auto checks = doctor::run_checks(environment);
    if (*json) std::cout << doctor::format_json(checks).dump(2) << "\n";
    else std::cout << doctor::format_text(checks);
    std::cout.flush();
    std::exit(doctor::exit_status(checks));
  });
}

}  // namespace nozero

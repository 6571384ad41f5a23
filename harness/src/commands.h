// Each harness module adds its subcommands to the nozero-bench application.
#pragma once

#include <CLI/CLI.hpp>

namespace nozero {

void add_doctor_command(CLI::App& app);   // doctor/
void add_kernel_command(CLI::App& app);   // kernel/
void add_vm_command(CLI::App& app);       // vm/
void add_run_command(CLI::App& app);      // run/
void add_stats_commands(CLI::App& app);   // stats/: compare, report, gate

}  // namespace nozero

// nozero-bench: builds the MAP_NOZERO kernel, runs the A/B suite in QEMU,
// computes statistics, renders reports and gates CI.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "commands.h"
#include "core/errors.h"
#include "version.h"

int main(int argc, char** argv) {
  CLI::App app{"nozero-bench: measure MAP_NOZERO (anonymous pages handed back without "
               "clear_page) on Linux 6.12 in QEMU"};
  app.set_version_flag("--version", std::string{"nozero-bench "} + nozero::kVersion);
  app.require_subcommand(1);

  nozero::add_doctor_command(app);
  nozero::add_kernel_command(app);
  nozero::add_vm_command(app);
  nozero::add_run_command(app);
  nozero::add_stats_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return nozero::kExitUsage;
  } catch (const nozero::CommandError& e) {
    std::cerr << "nozero-bench: error: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception& e) {
    std::cerr << "nozero-bench: error: " << e.what() << "\n";
    return nozero::kExitFailure;
  }
  return nozero::kExitOk;
}

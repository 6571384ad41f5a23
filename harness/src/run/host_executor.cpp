#include "run/host_executor.h"

#include <sys/utsname.h>

#include <fstream>

#include "core/process.h"

namespace nozero::run {

vm::ExecResult HostExecutor::run(const vm::VmConfig& config, const vm::GuestCommand& command,
                                 const vm::OutputSink& output) {
  vm::ExecResult result;
  struct utsname names {};
  uname(&names);
  result.kernel_release = names.release;
  std::ifstream cmdline("/proc/cmdline");
  std::getline(cmdline, result.kernel_cmdline);
  result.accelerator_reason = "no VM: the command ran on the host";

  RunOptions options;
  options.cwd = command.cwd;
  options.env = command.env;
  options.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.timeout);
  options.on_output = output;
  try {
    ProcessResult process = run_process(command.argv, options);
    result.exit_status = process.exit_status;
    result.timed_out = process.timed_out;
    result.command_s = process.elapsed_s;
    if (process.timed_out) {
      result.error = "the command did not finish within " + std::to_string(config.timeout.count()) + " s";
    }
  } catch (const std::exception& error) {
    result.error = error.what();
  }
  return result;
}

}  // namespace nozero::run

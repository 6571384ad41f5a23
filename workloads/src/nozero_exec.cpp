#include "nozero_exec.h"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <iostream>
#include <system_error>

#include "nozero/clock.h"
#include "nozero/exit_status.h"
#include "nozero/nozero_support.h"
#include "nozero/result.h"
#include "nozero/rusage.h"

namespace nozero_exec {
namespace {

// Switches on the opt-in, then replaces this process with the command. Returns
// only on failure, with the status to exit with. With --json it runs in a child
// forked from this single-threaded process, where allocating is still safe.
// Messages go straight to write(2), so no stdio buffer is written twice.
int opt_in_and_exec(const std::vector<char*>& argv, bool set_nozero, const std::string& preload) {
  auto say = [](const std::string& message) {
    ssize_t ignored = ::write(STDERR_FILENO, message.data(), message.size());
    (void)ignored;
  };
  if (set_nozero) {
    if (::setenv("LD_PRELOAD", preload.c_str(), 1) != 0) {
      say("nozero-exec: error: cannot set LD_PRELOAD: " + std::string{std::strerror(errno)} + "\n");
      return kExitCannotSetUp;
    }
    if (std::error_code error = nozero::request_process_nozero()) {
      say("nozero-exec: error: prctl(PR_SET_NOZERO, 1) failed: " + error.message() + "\n");
      return kExitCannotSetUp;
    }
  }
  ::execvp(argv[0], argv.data());
  int error = errno;
  say(std::string("nozero-exec: error: cannot run ") + argv[0] + ": " + std::strerror(error) + "\n");
  return exec_failure_status(error);
}

// --json: run the command as a child and report its wall time and usage.
int run_and_report(const Options& options, const std::vector<char*>& argv, const nozero::NozeroSupport& support,
                   bool set_nozero, const std::string& preload) {
  nozero::ResourceUsage usage_start = nozero::capture_rusage(RUSAGE_CHILDREN);
  nozero::Stopwatch clock;
  pid_t pid = ::fork();
  if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork failed");
  if (pid == 0) {
    // The document takes stdout, so the command's own output goes to stderr.
    if (options.json.to_stdout()) ::dup2(STDERR_FILENO, STDOUT_FILENO);
    ::_exit(opt_in_and_exec(argv, set_nozero, preload));
  }

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::system_error(errno, std::generic_category(), "waitpid failed");
  }
  double wall_s = clock.elapsed_s();
  nozero::ResourceUsage usage = nozero::usage_between(usage_start, nozero::capture_rusage(RUSAGE_CHILDREN));
  int exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

  nozero::WorkloadReport report("nozero-exec");
  report.parameters()["command"] = options.command;
  report.set_nozero(support, true);
  report.add_metric("wall_s", wall_s, "s", nozero::Better::lower);
  report.set_rusage(usage, "the command and its children");
  report.section("command") = {{"argv", options.command},
                               {"exit_status", exit_status},
                               {"signal", WIFSIGNALED(status) ? nlohmann::ordered_json(WTERMSIG(status)) : nullptr},
                               {"opt_in_set", set_nozero},
                               {"ld_preload", set_nozero ? nlohmann::ordered_json(preload) : nullptr}};
  nozero::write_report(report, options.json);
  return exit_status;
}

}  // namespace

std::string preload_value(const std::string& library, const char* current) {
  if (current == nullptr || *current == '\0') return library;
  return library + ":" + current;
}

std::optional<std::string> calloc_library(std::string& error) {
  std::error_code failure;
  std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", failure);
  std::filesystem::path library = self.parent_path() / kCallocLibrary;
  if (failure || !std::filesystem::exists(library)) {
    error = library.string() +
            " is missing; the opt-in needs its calloc(), which clears. Build the nozero-calloc target, which puts it "
            "next to the workload programs";
    return std::nullopt;
  }
  return library.string();
}

int exec_failure_status(int error) { return error == ENOENT || error == ENOTDIR ? kExitNotFound : kExitNotExecutable; }

int nozero_exec_main(int argc, char** argv) {
  CLI::App app{
      "nozero-exec [--json[=FILE]] [--] CMD [ARG...]: run CMD with the kernel's process-wide MAP_NOZERO opt-in switched on "
      "(prctl PR_SET_NOZERO, then execvp), so its heap may be recycled without clearing, with libnozero-calloc.so "
      "preloaded so that calloc() still clears. On a "
      "kernel without the series, prints a warning and runs CMD anyway. With --json, runs CMD as a child and "
      "reports its wall time, resource usage and page faults.",
      "nozero-exec"};
  nozero::cli::configure_app(app, "nozero-exec");
  app.footer(
      "Exit status: CMD's own status; 2 invalid command line; 125 the opt-in failed or libnozero-calloc.so is "
      "missing; 126 CMD is not "
      "executable; 127 CMD was not found.");
  app.prefix_command();
  Options options;
  nozero::cli::add_json_option(app, options.json)
      ->description(
          "Run CMD as a child and write the nozero-bench/workload document to stdout, or atomically to FILE "
          "with --json=FILE. With the document on stdout, CMD's stdout goes to stderr");

  return nozero::cli::run_program(app, argc, argv, [&] {
    options.command = app.remaining();
    if (!options.command.empty() && options.command.front() == "--") options.command.erase(options.command.begin());
    if (options.command.empty()) throw nozero::cli::UsageError("missing CMD: usage: nozero-exec [--json[=FILE]] [--] CMD [ARG...]");
    nozero::cli::validate_json_destination(options.json);

    nozero::NozeroSupport support = nozero::detect_nozero_support();
    std::string warning = nozero::unsupported_warning(support);
    if (!warning.empty()) std::cerr << "nozero-exec: warning: " << warning << "; running " << options.command.front() << " anyway\n";
    bool set_nozero = support.support != nozero::KernelSupport::not_supported;

    std::string preload;
    if (set_nozero) {
      std::string error;
      std::optional<std::string> library = calloc_library(error);
      if (!library) {
        std::cerr << "nozero-exec: error: " << error << "\n";
        return kExitCannotSetUp;
      }
      preload = preload_value(*library, std::getenv("LD_PRELOAD"));
    }

    std::vector<char*> command_argv;
    for (std::string& arg : options.command) command_argv.push_back(arg.data());
    command_argv.push_back(nullptr);
    if (options.json.enabled) return run_and_report(options, command_argv, support, set_nozero, preload);
    return opt_in_and_exec(command_argv, set_nozero, preload);
  });
}

}  // namespace nozero_exec

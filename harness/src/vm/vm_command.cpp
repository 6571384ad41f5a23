// `nozero-bench vm exec`: boot the guest kernel, run one command, return its status.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "commands.h"
#include "core/errors.h"
#include "core/files.h"
#include "vm/qemu_command.h"
#include "vm/qemu_executor.h"

namespace nozero {
namespace {

struct ExecOptions {
  std::filesystem::path kernel;
  std::filesystem::path cache_dir;
  unsigned uid = 0;
  std::optional<unsigned> gid;
  unsigned cpus = 2;
  std::string memory = "2048";
  unsigned timeout_s = 600;
  std::string thp = "madvise";
  std::filesystem::path share;
  std::string accel = "auto";
  std::filesystem::path cwd;
  std::vector<std::string> env;
  std::vector<std::string> append;
  std::filesystem::path console_log;
  bool show_console = false;
  bool quiet = false;
  std::vector<std::string> command;
};

// The primary group of `uid` in the host's /etc/passwd (the guest mounts the
// same file), or `uid` itself when it has no entry.
unsigned primary_gid(unsigned uid) {
  std::ifstream passwd("/etc/passwd");
  for (std::string line; std::getline(passwd, line);) {
    std::vector<std::string> fields;
    std::istringstream parts{line};
    for (std::string field; std::getline(parts, field, ':');) fields.push_back(field);
    if (fields.size() >= 4 && fields[2] == std::to_string(uid))
      return static_cast<unsigned>(std::stoul(fields[3]));
  }
  return uid;
}

vm::Accelerator parse_accelerator(const std::string& text) {
  if (text == "auto") return vm::Accelerator::automatic;
  if (text == "kvm") return vm::Accelerator::kvm;
  if (text == "tcg") return vm::Accelerator::tcg;
  throw CommandError("invalid accelerator '" + text + "'; expected auto, kvm or tcg");
}

std::map<std::string, std::string> parse_env(const std::vector<std::string>& entries) {
  std::map<std::string, std::string> env;
  for (const auto& entry : entries) {
    auto equals = entry.find('=');
    if (equals == std::string::npos || equals == 0)
      throw CommandError("invalid --env '" + entry + "'; expected NAME=VALUE");
    env[entry.substr(0, equals)] = entry.substr(equals + 1);
  }
  return env;
}

void write_chunk(FILE* stream, std::string_view chunk) {
  std::fwrite(chunk.data(), 1, chunk.size(), stream);
  std::fflush(stream);
}

int run_exec(const ExecOptions& options) {
  // Check the options first, so a typo is reported before the kernel lookup.
  vm::VmConfig config;
  config.cpus = options.cpus;
  config.memory_mib = vm::parse_memory_mib(options.memory);
  config.thp = options.thp;
  vm::check_thp_mode(config.thp);
  config.accelerator = parse_accelerator(options.accel);
  config.timeout = std::chrono::seconds{options.timeout_s};
  config.extra_cmdline = options.append;
  if (!options.share.empty()) config.share_dir = std::filesystem::absolute(options.share);
  config.console_log = options.console_log;
  auto env = parse_env(options.env);
  config.kernel_image = options.kernel.empty() ? vm::default_kernel_image(options.cache_dir)
                                               : options.kernel;
  if (options.show_console)
    config.console_sink = [](std::string_view chunk) { write_chunk(stderr, chunk); };
  if (!options.quiet)
    config.status_sink = [](const std::string& line) { std::cerr << "vm exec: " << line << "\n"; };

  vm::GuestCommand command;
  command.argv = options.command;
  command.uid = options.uid;
  command.gid = options.gid ? *options.gid : primary_gid(options.uid);
  command.env = env;
  command.cwd = options.cwd.empty() ? std::filesystem::current_path() : options.cwd;

  if (!options.quiet) std::cerr << "vm exec: kernel " << config.kernel_image.string() << "\n";
  vm::QemuExecutor executor;
  auto result = executor.run_streams(
      config, command,
      {[](std::string_view chunk) { write_chunk(stdout, chunk); },
       [](std::string_view chunk) { write_chunk(stderr, chunk); }});

  std::string where = result.accelerator == vm::Accelerator::kvm ? "KVM guest" : "TCG guest";
  if (!result.error.empty()) {
    std::cerr << "nozero-bench: error: " << result.error;
    if (result.error.back() != '\n') std::cerr << "\n";
    return result.timed_out ? vm::kExitGuestTimeout : vm::kExitGuestFailure;
  }
  if (!options.quiet) {
    char timing[160];
    std::snprintf(timing, sizeof timing, "booted in %.2f s, command ran %.2f s (%s, host wall clock)",
                  result.boot_s, result.command_s, where.c_str());
    std::cerr << "vm exec: " << result.kernel_release << " " << timing << ", exit status "
              << result.exit_status << "; console log " << result.console_log.string() << "\n";
  }
  return result.exit_status;
}

}  // namespace

void add_vm_command(CLI::App& app) {
  auto* vm_command = app.add_subcommand("vm", "Run commands in a QEMU guest");
  vm_command->require_subcommand(1);

  auto options = std::make_shared<ExecOptions>();
  auto* exec = vm_command->add_subcommand(
      "exec",
      "Boot the guest kernel, run CMD as a user with the host root read-only at / (writes go "
      "to a tmpfs overlay), stream its output, exit with its status (124: guest timed out, "
      "125: guest failed)");
  exec->add_option("--kernel", options->kernel,
                   "bzImage to boot [default: newest cached patched build]");
  exec->add_option("--cache-dir", options->cache_dir,
                   "Kernel cache searched for the default image [default: as `kernel build`]");
  exec->add_option("--uid", options->uid, "User id the command runs as")->capture_default_str();
  exec->add_option("--gid", options->gid,
                   "Group id [default: the uid's primary group in /etc/passwd, else the uid]");
  exec->add_option("--cpus", options->cpus, "Guest CPUs")->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  exec->add_option("--memory", options->memory, "Guest memory: MiB, or with M, G, MiB, GiB")
      ->capture_default_str();
  exec->add_option("--timeout", options->timeout_s,
                   "Seconds for boot, command and power-off together; the guest is killed after")
      ->check(CLI::Range(1u, 7u * 24 * 3600))
      ->capture_default_str();
  exec->add_option("--thp", options->thp, "Transparent huge pages: never, madvise or always")
      ->check(CLI::IsMember({"never", "madvise", "always"}))
      ->capture_default_str();
  exec->add_option("--share", options->share,
                   "Host directory mounted read-write in the guest at the same path");
  exec->add_option("--accel", options->accel,
                   "auto (KVM if a probe boot shows it works, else TCG), kvm or tcg")
      ->check(CLI::IsMember({"auto", "kvm", "tcg"}))
      ->capture_default_str();
  exec->add_option("--cwd", options->cwd, "Working directory in the guest [default: the current one]");
  exec->add_option("--env", options->env, "NAME=VALUE added to the command's environment");
  exec->add_option("--append", options->append, "Extra kernel command-line argument");
  exec->add_option("--console-log", options->console_log,
                   "Where the kernel console is written [default: under ~/.cache/nozero-bench/vm]");
  exec->add_flag("--show-console", options->show_console, "Copy the kernel console to stderr");
  exec->add_flag("--quiet,-q", options->quiet, "Print no status lines, only the command's output");
  exec->add_option("command", options->command, "The command and its arguments, after --")
      ->required();
  exec->callback([options] {
    int status = run_exec(*options);
    std::fflush(stdout);
    std::exit(status);
  });
}

}  // namespace nozero

#include "vm/qemu_command.h"

#include <cmath>
#include <regex>

#include "core/errors.h"
#include "vm/guest_protocol.h"

namespace nozero::vm {

std::string_view to_string(Accelerator accelerator) {
  switch (accelerator) {
    case Accelerator::automatic:
      return "auto";
    case Accelerator::kvm:
      return "kvm";
    case Accelerator::tcg:
      return "tcg";
  }
  return "unknown";
}

std::string qemu_escape(const std::string& value) {
  std::string escaped;
  for (char c : value) {
    escaped += c;
    if (c == ',') escaped += ',';
  }
  return escaped;
}

std::string kernel_cmdline(const VmConfig& config) {
  // panic=-1 reboots at once on a panic and -no-reboot turns the reboot into a
  // QEMU exit, so a panicking guest ends in seconds instead of at the timeout.
  std::string cmdline = "console=ttyS0 panic=-1 rdinit=" + std::string{protocol::kInitPath} +
                        " transparent_hugepage=" + config.thp;
  for (const auto& argument : config.extra_cmdline) cmdline += " " + argument;
  return cmdline;
}

std::vector<std::string> qemu_argv(const VmConfig& config, Accelerator accelerator,
                                   const GuestFiles& files) {
  std::vector<std::string> argv = {config.qemu, "-nodefaults", "-no-user-config", "-display",
                                   "none", "-no-reboot", "-name", "nozero-guest"};
  if (accelerator == Accelerator::kvm) {
    argv.insert(argv.end(), {"-accel", "kvm", "-cpu", "host"});
  } else {
    // -cpu max exposes every feature TCG emulates (ERMS for clear_page_erms among them).
    argv.insert(argv.end(), {"-accel", "tcg,thread=multi", "-cpu", "max"});
  }
  argv.insert(argv.end(), {"-smp", std::to_string(config.cpus), "-m",
                           std::to_string(config.memory_mib) + "M"});
  argv.insert(argv.end(), {"-kernel", config.kernel_image.string(), "-initrd",
                           files.initramfs.string(), "-append", kernel_cmdline(config)});

  // ttyS0: the kernel console, written to the console log.
  argv.insert(argv.end(), {"-chardev", "file,id=console,path=" + qemu_escape(files.console_log.string()),
                           "-serial", "chardev:console"});
  // hvc0: the frame channel, a UNIX socket the executor listens on.
  argv.insert(argv.end(),
              {"-device", "virtio-serial-pci", "-chardev",
               "socket,id=channel,path=" + qemu_escape(files.channel_socket.string()),
               "-device", "virtconsole,chardev=channel,name=org.nozero-bench.channel"});
  // The host root, read-only; multidevs=remap keeps inode numbers unique across
  // the host's file systems.
  argv.insert(argv.end(), {"-virtfs", std::string{"local,path=/,mount_tag="} + protocol::kRootTag +
                                          ",security_model=none,readonly=on,multidevs=remap"});
  if (!config.share_dir.empty()) {
    argv.insert(argv.end(),
                {"-virtfs", "local,path=" + qemu_escape(config.share_dir.string()) +
                                ",mount_tag=" + protocol::kShareTag +
                                ",security_model=none,multidevs=remap"});
  }
  return argv;
}

std::uint64_t parse_memory_mib(const std::string& text) {
  static const std::regex kSize{R"(^\s*([0-9]+(?:\.[0-9]+)?)\s*([KkMmGgTt]?)(?:i?B)?\s*$)"};
  std::smatch match;
  auto invalid = [&text](const std::string& why) {
    return CommandError("invalid memory size '" + text + "': " + why +
                        "; expected MiB as a number, or a number with M, G, MiB or GiB "
                        "(for example 2048, 2G, 512MiB)");
  };
  if (!std::regex_match(text, match, kSize)) throw invalid("not a size");
  double number = std::stod(match[1]);
  char unit = match[2].length() != 0 ? static_cast<char>(std::toupper(match[2].str()[0])) : 'M';
  double mib = number;
  switch (unit) {
    case 'K':
      mib = number / 1024;
      break;
    case 'G':
      mib = number * 1024;
      break;
    case 'T':
      mib = number * 1024 * 1024;
      break;
    default:
      break;
  }
  if (mib < 128) throw invalid("a guest needs at least 128 MiB");
  if (mib > 1024.0 * 1024) throw invalid("more than 1 TiB");
  return static_cast<std::uint64_t>(std::llround(mib));
}

void check_thp_mode(const std::string& mode) {
  if (mode != "never" && mode != "madvise" && mode != "always")
    throw CommandError("invalid THP mode '" + mode + "'; expected never, madvise or always");
}

}  // namespace nozero::vm

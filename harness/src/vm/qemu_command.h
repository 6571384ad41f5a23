// The QEMU command line and kernel command line of a guest.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "vm/executor.h"

namespace nozero::vm {

// Files of one guest run, all created by the executor.
struct GuestFiles {
  std::filesystem::path initramfs;
  std::filesystem::path console_log;
  std::filesystem::path channel_socket;
};

// "console=ttyS0 panic=-1 transparent_hugepage=<thp> ..." plus config.extra_cmdline.
std::string kernel_cmdline(const VmConfig& config);

// The full QEMU argv for `accelerator` (kvm or tcg, never automatic).
std::vector<std::string> qemu_argv(const VmConfig& config, Accelerator accelerator,
                                   const GuestFiles& files);

// Doubles commas, as QEMU's option parser requires inside a value.
std::string qemu_escape(const std::string& value);

// Parses "2048", "2048M", "2G", "512MiB", "1.5GiB" into MiB. Throws CommandError
// naming the value and the accepted forms.
std::uint64_t parse_memory_mib(const std::string& text);

// Throws CommandError unless `mode` is never, madvise or always.
void check_thp_mode(const std::string& mode);

}  // namespace nozero::vm

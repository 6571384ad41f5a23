// Chooses between KVM and TCG. KVM is used only after a probe boot shows that a
// guest gets through its firmware under it: on some hosts /dev/kvm opens and
// KVM_CREATE_VM succeeds, yet guests never get far. The probe's result is cached
// per host boot, QEMU version and host kernel.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

#include "vm/executor.h"

namespace nozero::vm {

enum class ProbeKind { firmware, kernel_boot };

struct ProbeResult {
  bool usable = false;
  // The reason the accelerator is or is not usable, in a sentence a user can act on.
  std::string reason;
  double seconds = 0;
  ProbeKind kind = ProbeKind::firmware;
};

// A usable KVM boots the guest kernel to its init in about a second and gets
// through SeaBIOS in well under one. On the project's build machines KVM guests
// never boot. With -cpu host QEMU 7.2 aborts at once because it cannot set an
// MSR. With the default CPU model the kernel printed nothing in 40 s, and SeaBIOS
// alone took 5 to 13 s. 15 s tells the two apart without making a first run slow.
inline constexpr std::chrono::milliseconds kProbeTimeout{15000};

// Boots firmware only (SeaBIOS, no disk) with the CPU model of real guests and
// watches its debug console (I/O port 0x402) for the boot step that follows POST.
// Used when no kernel is built yet. `accelerator` exists so tests can run the
// probe under TCG.
ProbeResult probe_firmware_boot(const std::string& qemu, Accelerator accelerator,
                                std::chrono::milliseconds timeout = kProbeTimeout);

// Boots `config.kernel_image` with the guest init running /bin/true, exactly as
// a real run boots it (1 CPU, 256 MiB, no share).
ProbeResult probe_kernel_boot(const VmConfig& config, Accelerator accelerator,
                              std::chrono::milliseconds timeout = kProbeTimeout);

// Identity of the host for the probe cache: boot id, host kernel release and
// QEMU version. A change of any of them invalidates the cached result.
std::string probe_host_identity(const std::string& qemu);

struct AcceleratorChoice {
  Accelerator accelerator = Accelerator::tcg;
  std::string reason;
  bool from_cache = false;
  std::string probed_at;  // UTC time of the probe that decided, when one did
  ProbeKind kind = ProbeKind::firmware;
};

// Reads a cached probe result valid for `host_identity`, or nullopt.
std::optional<AcceleratorChoice> read_probe_cache(const std::filesystem::path& cache_file,
                                                  const std::string& host_identity);
void write_probe_cache(const std::filesystem::path& cache_file, const std::string& host_identity,
                       const ProbeResult& result);

std::filesystem::path default_probe_cache();

// Resolves `requested`: kvm and tcg are taken as given. automatic checks that
// /dev/kvm opens, then uses a cached probe result or probes and caches one: a
// kernel boot when `config.kernel_image` is set, else a firmware boot. A cached
// "usable" from a firmware probe is confirmed by a kernel boot once a kernel is
// available; a cached "not usable" of either kind is kept. `reprobe` ignores the
// cache.
AcceleratorChoice choose_accelerator(Accelerator requested, const VmConfig& config,
                                     const std::filesystem::path& cache_file, bool reprobe = false,
                                     std::chrono::milliseconds timeout = kProbeTimeout);

}  // namespace nozero::vm

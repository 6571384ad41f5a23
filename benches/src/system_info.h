// Facts about the running system that move memory-management numbers, read from
// /proc and /sys for the benchmark context and the per-benchmark checks.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace nozero::benches {

std::string kernel_release();
// The "model name" of the first CPU in /proc/cpuinfo, or "unknown".
std::string cpu_model();

// The selected value of a THP setting file such as
// /sys/kernel/mm/transparent_hugepage/enabled ("always [madvise] never" gives
// "madvise"), or "unavailable (...)" when the file cannot be read.
std::string thp_setting(std::string_view name);

// All counters of /proc/vmstat by name.
using VmStat = std::map<std::string, std::uint64_t, std::less<>>;
VmStat read_vmstat();

// AnonHugePages of the mapping that starts at start, from /proc/self/smaps, in KiB.
// Returns std::nullopt when no mapping starts there.
std::optional<std::uint64_t> anon_huge_kib(const void* start);

// Where the numbers are measured: "TCG guest" when /proc/cpuinfo names QEMU's TCG
// CPU model, "host" otherwise.
// NOTE: a KVM guest is indistinguishable from a host that is itself a virtual
// machine, so callers in a KVM guest must pass the label explicitly.
std::string detect_measured_on();

}  // namespace nozero::benches

// User-space view of the MAP_NOZERO kernel series in kernel-patches/linux-6.12/.
// The series' include/uapi headers define the same values; keep both in step.
#pragma once

namespace nozero::uapi {

// mmap flag, the bit of the 2007 series. Linux 6.12 calls the same bit
// MAP_UNINITIALIZED and ignores it on MMU kernels, so an unpatched kernel accepts
// it and returns zeroed pages: support must be detected, never inferred from mmap.
inline constexpr int kMapNozero = 0x04000000;

// brk2(addr, flags): syscall 463 on x86-64, the first number free in 6.12.
// NOTE: upstream 6.13 gave 463 to setxattrat, so call it only after detecting the
// series through kSysctlPath.
inline constexpr long kSysBrk2 = 463;
inline constexpr unsigned long kBrkNozero = 0x1;

// prctl options of the process-wide opt-in. They follow the style of PR_SET_VMA
// (0x53564d41): a tag far from the small sequential numbers, so a later upstream
// option can never collide with them. "NZO" then 1 or 2.
inline constexpr int kPrSetNozero = 0x4e5a4f01;
inline constexpr int kPrGetNozero = 0x4e5a4f02;

// 1 when recycling is on, 0 when the kernel clears every page as before.
inline constexpr const char* kSysctlPath = "/proc/sys/vm/nozero";

// /proc/vmstat counters added by the series.
inline constexpr const char* kVmstatFree = "nozero_free";        // pages freed with a cookie
inline constexpr const char* kVmstatReuse = "nozero_reuse";      // faults that skipped clearing
inline constexpr const char* kVmstatClear = "nozero_clear";      // VM_NOZERO faults that cleared
inline constexpr const char* kVmstatThpReuse = "nozero_thp_reuse";  // large folios not cleared
inline constexpr const char* kVmstatThpClear = "nozero_thp_clear";  // large folios cleared

// The VmFlags mnemonic of VM_NOZERO in /proc/PID/smaps.
inline constexpr const char* kSmapsFlag = "nz";

}  // namespace nozero::uapi

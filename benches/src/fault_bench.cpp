// nzbench-fault: the cost of faulting in anonymous memory, with and without
// MAP_NOZERO, for 4 KiB pages and for THP-backed 2 MiB regions, and the cost of
// reusing memory inside one mapping through MADV_DONTNEED or MADV_FREE.
//
// One iteration handles a 16 MiB region: 4096 small pages or 8 huge pages. The
// fault benchmarks map it, write one byte to every 4 KiB page and unmap it, like
// will-it-scale's page_fault1. The reuse benchmarks map it once, and each iteration
// applies the advice to the whole region and writes every page again.
#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "bench_support.h"
#include "nozero/uapi.h"

namespace nozero::benches {
namespace {

constexpr std::size_t kRegionBytes = std::size_t{16} << 20;
constexpr double kPagesPerRegion = static_cast<double>(kRegionBytes / kPageSize);
constexpr double kHugePagesPerRegion = static_cast<double>(kRegionBytes / kHugePageSize);

enum class Arm { baseline, nozero };
enum class PageSize { small, huge };

// vmstat counters the fault paths move. The kernel keeps them system wide, so
// another process faulting at the same time adds to them.
const std::vector<std::string>& vmstat_names(PageSize size) {
  static const std::vector<std::string> small = {uapi::kVmstatReuse, uapi::kVmstatClear};
  static const std::vector<std::string> huge = {"thp_fault_alloc", "thp_fault_fallback",
                                                uapi::kVmstatThpReuse, uapi::kVmstatThpClear};
  return size == PageSize::small ? small : huge;
}

// An anonymous private mapping of kRegionBytes, aligned to 2 MiB for huge pages so
// that every 2 MiB of it can be one PMD-mapped THP.
class Region {
 public:
  static std::optional<Region> map(PageSize size, Arm arm, std::string& error) {
    const int flags = MAP_PRIVATE | MAP_ANONYMOUS | (arm == Arm::nozero ? uapi::kMapNozero : 0);
    const std::size_t slack = size == PageSize::huge ? kHugePageSize : 0;
    void* raw = mmap(nullptr, kRegionBytes + slack, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (raw == MAP_FAILED) {
      error = counters::describe_errno("mmap", errno);
      return std::nullopt;
    }

    auto* start = static_cast<char*>(raw);
    if (size == PageSize::huge) {
      // Trim the unaligned head and the tail beyond the aligned region.
      const auto address = reinterpret_cast<std::uintptr_t>(raw);
      const std::size_t head = (kHugePageSize - address % kHugePageSize) % kHugePageSize;
      start += head;
      if (head != 0) {
        munmap(raw, head);
      }
      if (slack - head != 0) {
        munmap(start + kRegionBytes, slack - head);
      }
    }

    // MADV_NOHUGEPAGE keeps THP "always" from turning the small-page benchmarks into
    // huge-page ones, and MADV_HUGEPAGE gets huge pages under "madvise" too.
    const int advice = size == PageSize::huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE;
    if (madvise(start, kRegionBytes, advice) != 0) {
      error = counters::describe_errno(size == PageSize::huge ? "madvise(MADV_HUGEPAGE)"
                                                              : "madvise(MADV_NOHUGEPAGE)",
                                       errno);
      munmap(start, kRegionBytes);
      return std::nullopt;
    }
    return Region(start);
  }

  Region(Region&& other) noexcept : start_(other.start_) { other.start_ = nullptr; }
  Region& operator=(Region&&) = delete;
  ~Region() {
    if (start_ != nullptr) {
      munmap(start_, kRegionBytes);
    }
  }

  char* start() const { return start_; }

  // Writes one byte to every 4 KiB page: the first write to a page faults it in.
  void touch() const {
    for (std::size_t offset = 0; offset < kRegionBytes; offset += kPageSize) {
      static_cast<volatile char*>(start_)[offset] = 1;
    }
  }

 private:
  explicit Region(char* start) : start_(start) {}
  char* start_;
};

// Skips the MAP_NOZERO arm on a kernel that would silently clear its pages.
bool skip_unsupported(benchmark::State& state, Arm arm) {
  const NozeroSupport& nozero = environment().nozero;
  if (arm == Arm::baseline || nozero.support == KernelSupport::supported) {
    return false;
  }
  const std::string message = "MAP_NOZERO arm not run: kernel support is " +
                              std::string(to_string(nozero.support)) + " (" + nozero.detail + ")";
  state.SkipWithError(message.c_str());
  return true;
}

// Stores huge_page_share, the AnonHugePages share of a region whose smaps entry
// reported huge_kib, and notes in the label when the region is not fully THP-backed.
void record_huge_page_share(benchmark::State& state, std::uint64_t huge_kib, const char* when,
                            Label& label) {
  const double share = static_cast<double>(huge_kib) / static_cast<double>(kRegionBytes / 1024);
  state.counters["huge_page_share"] = share;
  if (share < 1.0) {
    std::ostringstream note;
    note << "NOT fully THP-backed " << when << ": AnonHugePages " << huge_kib << " of "
         << kRegionBytes / 1024 << " KiB (THP enabled=" << environment().thp_enabled
         << ", defrag=" << environment().thp_defrag << ")";
    label.add(note.str());
  }
}

// Maps, touches and inspects one huge-page region before the timed loop, because
// reading smaps inside it would dominate the timing.
bool probe_huge_pages(benchmark::State& state, Arm arm, Label& label) {
  std::string error;
  auto region = Region::map(PageSize::huge, arm, error);
  if (!region) {
    state.SkipWithError(error.c_str());
    return false;
  }
  region->touch();
  const auto huge_kib = anon_huge_kib(region->start());
  if (!huge_kib) {
    state.SkipWithError("probe region not found in /proc/self/smaps");
    return false;
  }
  record_huge_page_share(state, *huge_kib, "in the probe before the loop", label);
  return true;
}

// Stops the event counters after the timed loop and stores every per-iteration
// counter of one region.
void record_loop(benchmark::State& state, CountedLoop& counted, const VmStat& before, PageSize size) {
  counted.finish();
  set_vmstat_counters(state, before, read_vmstat(), vmstat_names(size));
  set_page_counters(state, kPagesPerRegion);
  if (size == PageSize::huge) {
    using benchmark::Counter;
    state.counters["huge_pages_per_s"] = Counter(kHugePagesPerRegion, Counter::kIsIterationInvariantRate);
    state.counters["ns_per_huge_page"] =
        Counter(kHugePagesPerRegion * 1e-9, Counter::kIsIterationInvariantRate | Counter::kInvert);
  }
}

// Map, write one byte per page, unmap.
void fault_in(benchmark::State& state, PageSize size, Arm arm) {
  if (skip_unsupported(state, arm)) {
    return;
  }
  // One untimed iteration first: the MAP_NOZERO arm can only reuse pages that an
  // earlier unmap of a MAP_NOZERO region freed, so without it a run of a single
  // iteration (a short --benchmark_min_time in an emulated guest) would measure
  // only cleared faults. The THP probe is that iteration for huge pages.
  Label label;
  if (size == PageSize::huge) {
    if (!probe_huge_pages(state, arm, label)) {
      return;
    }
  } else {
    std::string error;
    auto warm_up = Region::map(size, arm, error);
    if (!warm_up) {
      state.SkipWithError(error.c_str());
      return;
    }
    warm_up->touch();
  }

  const VmStat before = read_vmstat();
  CountedLoop counted(state);
  for (auto _ : state) {
    std::string error;
    auto region = Region::map(size, arm, error);
    if (!region) {
      state.SkipWithError(error.c_str());
      break;
    }
    region->touch();
  }
  record_loop(state, counted, before, size);
  label.apply(state);
}

// Map once; each iteration gives the memory back with the advice and writes it again.
void reuse(benchmark::State& state, PageSize size, Arm arm, int advice) {
  if (skip_unsupported(state, arm)) {
    return;
  }
  std::string error;
  auto region = Region::map(size, arm, error);
  if (!region) {
    state.SkipWithError(error.c_str());
    return;
  }
  region->touch();

  const VmStat before = read_vmstat();
  CountedLoop counted(state);
  for (auto _ : state) {
    if (madvise(region->start(), kRegionBytes, advice) != 0) {
      const std::string message = counters::describe_errno("madvise", errno);
      state.SkipWithError(message.c_str());
      break;
    }
    region->touch();
  }
  record_loop(state, counted, before, size);

  Label label;
  if (size == PageSize::huge) {
    // The region is still mapped: check what the last iteration left in it.
    record_huge_page_share(state, anon_huge_kib(region->start()).value_or(0), "after the loop", label);
  }
  label.apply(state);
}

void register_fault_benchmarks() {
  struct Size {
    const char* name;
    PageSize size;
  };
  for (const Size size : {Size{"4k", PageSize::small}, Size{"thp", PageSize::huge}}) {
    const std::string fault = std::string("fault_") + size.name;
    const std::string reuse_prefix = std::string("reuse_") + size.name;
    const PageSize page_size = size.size;

    benchmark::RegisterBenchmark((fault + "/baseline").c_str(),
                                 [=](benchmark::State& state) { fault_in(state, page_size, Arm::baseline); });
    benchmark::RegisterBenchmark((fault + "/nozero").c_str(),
                                 [=](benchmark::State& state) { fault_in(state, page_size, Arm::nozero); });
    benchmark::RegisterBenchmark((reuse_prefix + "/dontneed/baseline").c_str(), [=](benchmark::State& state) {
      reuse(state, page_size, Arm::baseline, MADV_DONTNEED);
    });
    benchmark::RegisterBenchmark((reuse_prefix + "/dontneed/nozero").c_str(), [=](benchmark::State& state) {
      reuse(state, page_size, Arm::nozero, MADV_DONTNEED);
    });
    // MADV_FREE leaves the pages mapped until reclaim, so the writes do not fault
    // and MAP_NOZERO has nothing to change.
    benchmark::RegisterBenchmark((reuse_prefix + "/free/baseline").c_str(), [=](benchmark::State& state) {
      reuse(state, page_size, Arm::baseline, MADV_FREE);
    });
  }
}

}  // namespace
}  // namespace nozero::benches

int main(int argc, char** argv) {
  return nozero::benches::run_main(argc, argv, nozero::benches::register_fault_benchmarks);
}

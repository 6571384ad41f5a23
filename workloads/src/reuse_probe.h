// The loop of nzmmap-test and nzmalloc-test: get N fresh pages, fault each in,
// count the pages that still hold data (reused without clearing), mark every page
// and give the memory back.
#pragma once

#include <array>
#include <cstdint>
#include <ostream>
#include <vector>

#include "nozero/result.h"
#include "nozero/rusage.h"
#include "page_probe.h"
#include "run_bound.h"

namespace workloads {

// The source of one iteration's pages.
class PageSource {
 public:
  virtual ~PageSource() = default;
  // Allocates the iteration's memory and returns its whole pages.
  virtual std::vector<char*> acquire() = 0;
  // Gives back what acquire() allocated.
  virtual void release() = 0;
};

// One anonymous mapping of `pages` pages per iteration, with MAP_NOZERO if asked.
class MmapPageSource : public PageSource {
 public:
  MmapPageSource(std::uint64_t pages, bool nozero);
  ~MmapPageSource() override;
  std::vector<char*> acquire() override;
  void release() override;

 private:
  std::size_t length_;
  int flags_;
  void* mapping_ = nullptr;
};

// The glibc malloc set-up nzmalloc-test applies before the loop.
enum class MallocMode {
  glibc_default,  // glibc's defaults, including its dynamic mmap threshold
  mmap,           // every block of a page or more is its own mmap, unmapped by free
  brk,            // no mmap; free trims the brk heap, so the next malloc faults again
};

const char* to_string(MallocMode mode);

// Applies `mode` with mallopt; throws std::runtime_error when glibc rejects it.
void configure_malloc(MallocMode mode);

// ceil(pages / block_pages) malloc blocks of block_pages pages per iteration.
class MallocPageSource : public PageSource {
 public:
  MallocPageSource(std::uint64_t pages, std::uint64_t block_pages);
  ~MallocPageSource() override;
  std::vector<char*> acquire() override;
  void release() override;

 private:
  std::uint64_t pages_;
  std::uint64_t block_pages_;
  std::vector<void*> blocks_;
};

struct ReuseResult {
  std::uint64_t iterations = 0;
  std::uint64_t pages_scanned = 0;
  std::uint64_t reused_pages = 0;
  std::vector<double> reused_per_iteration;
  std::vector<double> iteration_s;
  // Reused pages by PageOrigin.
  std::array<std::uint64_t, 3> origins{};
  double elapsed_s = 0;
  nozero::ResourceUsage usage;

  double reused_rate() const {
    return pages_scanned == 0 ? 0.0 : static_cast<double>(reused_pages) / static_cast<double>(pages_scanned);
  }
};

// Runs iterations until `bound` ends them. With `verbose`, prints one line per
// iteration to `log`.
ReuseResult run_reuse_loop(const RunBound& bound, PageSource& source, bool verbose, std::ostream& log);

// Adds the metrics, samples, rusage and the "reuse" section to `report`.
void add_to_report(nozero::WorkloadReport& report, const ReuseResult& result);

// "N iterations, M pages scanned, K reused (R%)".
void print_summary(const ReuseResult& result, std::ostream& out);

}  // namespace workloads

#include "reuse_probe.h"

#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <stdexcept>
#include <system_error>

#include "nozero/clock.h"
#include "nozero/meminfo.h"
#include "nozero/uapi.h"

namespace workloads {

MmapPageSource::MmapPageSource(std::uint64_t pages, bool nozero)
    : length_(pages * nozero::page_size()),
      flags_(MAP_PRIVATE | MAP_ANONYMOUS | (nozero ? nozero::uapi::kMapNozero : 0)) {}

MmapPageSource::~MmapPageSource() { release(); }

std::vector<char*> MmapPageSource::acquire() {
  mapping_ = ::mmap(nullptr, length_, PROT_READ | PROT_WRITE, flags_, -1, 0);
  if (mapping_ == MAP_FAILED) {
    mapping_ = nullptr;
    throw std::system_error(errno, std::generic_category(), "mmap of " + std::to_string(length_) + " bytes failed");
  }
  return whole_pages(mapping_, length_, nozero::page_size());
}

void MmapPageSource::release() {
  if (mapping_ != nullptr) ::munmap(mapping_, length_);
  mapping_ = nullptr;
}

const char* to_string(MallocMode mode) {
  switch (mode) {
    case MallocMode::glibc_default:
      return "default";
    case MallocMode::mmap:
      return "mmap";
    case MallocMode::brk:
      return "brk";
  }
  return "default";
}

void configure_malloc(MallocMode mode) {
  auto set = [](int parameter, int value, const char* name) {
    if (::mallopt(parameter, value) != 1) throw std::runtime_error(std::string("mallopt(") + name + ") failed");
  };
  int page = static_cast<int>(nozero::page_size());
  switch (mode) {
    case MallocMode::glibc_default:
      break;
    case MallocMode::mmap:
      // A fixed threshold also switches off glibc's dynamic threshold, which would
      // otherwise move large blocks to the heap after the first free.
      set(M_MMAP_THRESHOLD, page, "M_MMAP_THRESHOLD");
      break;
    case MallocMode::brk:
      set(M_MMAP_MAX, 0, "M_MMAP_MAX");
      set(M_TRIM_THRESHOLD, page, "M_TRIM_THRESHOLD");
      set(M_TOP_PAD, 0, "M_TOP_PAD");
      break;
  }
}

MallocPageSource::MallocPageSource(std::uint64_t pages, std::uint64_t block_pages)
    : pages_(pages), block_pages_(block_pages) {}

MallocPageSource::~MallocPageSource() { release(); }

std::vector<char*> MallocPageSource::acquire() {
  std::size_t page = nozero::page_size();
  std::vector<char*> pages;
  for (std::uint64_t first = 0; first < pages_; first += block_pages_) {
    std::size_t size = std::min(block_pages_, pages_ - first) * page;
    void* block = std::malloc(size);
    if (block == nullptr) throw std::bad_alloc();
    blocks_.push_back(block);
    // malloc blocks are not page-aligned, so a block of n pages holds n - 1 whole
    // pages unless it happens to be aligned.
    for (char* whole : whole_pages(block, size, page)) pages.push_back(whole);
  }
  return pages;
}

void MallocPageSource::release() {
  for (void* block : blocks_) std::free(block);
  blocks_.clear();
}

ReuseResult run_reuse_loop(const RunBound& bound, PageSource& source, bool verbose, std::ostream& log) {
  ReuseResult result;
  std::size_t page_size = nozero::page_size();
  auto pid = static_cast<std::uint64_t>(::getpid());
  nozero::ResourceUsage usage_start = nozero::capture_rusage(RUSAGE_SELF);
  nozero::Stopwatch clock;

  while (bound.allows(result.iterations, clock)) {
    nozero::Stopwatch iteration_clock;
    std::vector<char*> pages = source.acquire();
    std::uint64_t reused = 0;
    for (char* page : pages) {
      if (fault_and_check_reused(page, page_size)) {
        ++reused;
        ++result.origins[static_cast<std::size_t>(classify_page(page, pid))];
      }
      write_marker(page, pid, result.iterations);
    }
    source.release();

    result.iteration_s.push_back(iteration_clock.elapsed_s());
    result.reused_per_iteration.push_back(static_cast<double>(reused));
    result.pages_scanned += pages.size();
    result.reused_pages += reused;
    if (verbose) log << "iteration " << result.iterations << ": " << reused << " of " << pages.size() << " pages reused\n";
    ++result.iterations;
    if (bound.allows(result.iterations, clock)) pause_between_iterations(bound);
  }

  result.elapsed_s = clock.elapsed_s();
  result.usage = nozero::usage_between(usage_start, nozero::capture_rusage(RUSAGE_SELF));
  return result;
}

void add_to_report(nozero::WorkloadReport& report, const ReuseResult& result) {
  using nozero::Better;
  report.add_metric("reused_rate", result.reused_rate(), "ratio", Better::higher);
  report.add_metric("reused_pages", static_cast<double>(result.reused_pages), "pages", Better::higher);
  report.add_metric("pages_scanned", static_cast<double>(result.pages_scanned), "pages", Better::higher);
  report.add_metric("iterations", static_cast<double>(result.iterations), "iterations", Better::higher);
  report.add_metric("elapsed_s", result.elapsed_s, "s", Better::lower);
  report.set_samples("reused_pages", result.reused_per_iteration);
  report.set_samples("iteration_s", result.iteration_s);
  report.set_rusage(result.usage, "this process, the iteration loop");

  nlohmann::ordered_json& reuse = report.section("reuse");
  for (PageOrigin origin : {PageOrigin::own_marker, PageOrigin::other_process_marker, PageOrigin::unmarked}) {
    reuse[to_string(origin)] = result.origins[static_cast<std::size_t>(origin)];
  }
}

void print_summary(const ReuseResult& result, std::ostream& out) {
  char line[160];
  std::snprintf(line, sizeof line, "%llu iterations, %llu pages scanned, %llu reused (%.2f%%) in %.3f s\n",
                static_cast<unsigned long long>(result.iterations),
                static_cast<unsigned long long>(result.pages_scanned),
                static_cast<unsigned long long>(result.reused_pages), 100 * result.reused_rate(), result.elapsed_s);
  out << line;
}

}  // namespace workloads

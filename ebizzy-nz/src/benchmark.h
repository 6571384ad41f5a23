// The ebizzy loop: threads pick a chunk, copy it into a fresh buffer, search the
// copy for a key and free the buffer, as often as they can for a fixed time.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <vector>

#include "nozero/rusage.h"
#include "options.h"

namespace ebizzy {

// A search that did not find its key: the copy differs from its chunk.
struct SearchMiss {
  std::uint64_t thread = 0;
  std::uint64_t chunk = 0;
  Record key = 0;
  std::size_t copy_size = 0;
};

struct RunResult {
  // Completed iterations (records) of all threads, summed after join.
  std::uint64_t records = 0;
  std::vector<std::uint64_t> thread_records;
  // From opening the start gate until every thread has joined.
  double elapsed_s = 0;
  // records/s of each sample interval; the last one may be shorter.
  std::vector<double> interval_rates;
  // This process from the start gate until the join, all threads included.
  nozero::ResourceUsage usage;
  std::optional<SearchMiss> miss;
  // Chunks whose -p mprotect failed (their pages stay writable).
  std::uint64_t protect_failures = 0;

  double records_per_s() const { return elapsed_s > 0 ? static_cast<double>(records) / elapsed_s : 0; }
};

// Allocates and fills the chunks, runs the threads for options.seconds and frees
// everything. Settings and progress go to `log` as options.verbose requests.
// Throws std::system_error or std::bad_alloc when an allocation fails.
RunResult run(const Options& options, std::ostream& log);

}  // namespace ebizzy

#include "benchmark.h"

#include <malloc.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>

#include "buffers.h"
#include "generator.h"
#include "nozero/clock.h"
#include "nozero/meminfo.h"

namespace ebizzy {
namespace {

using nozero::MonotonicClock;

// One cache line per counter, so a thread's increments never invalidate the line
// another thread writes (64 bytes on x86-64 and most arm64 parts).
struct alignas(64) ThreadCounter {
  std::atomic<std::uint64_t> records{0};
};

// The chunks and their holes, freed in the destructor.
class ChunkSet {
 public:
  ChunkSet(const Options& options, const BufferAllocator& allocator, std::ostream& log);
  ~ChunkSet();
  ChunkSet(const ChunkSet&) = delete;
  ChunkSet& operator=(const ChunkSet&) = delete;

  const Record* chunk(std::uint64_t index) const { return chunks_[index]; }
  std::uint64_t protect_failures() const { return protect_failures_; }

 private:
  void write_pattern();

  const Options& options_;
  const BufferAllocator& allocator_;
  std::vector<Record*> chunks_;
  std::vector<bool> protected_;
  std::uint64_t protect_failures_ = 0;
  int protect_error_ = 0;
};

ChunkSet::ChunkSet(const Options& options, const BufferAllocator& allocator, std::ostream& log)
    : options_(options), allocator_(allocator) {
  std::size_t page = nozero::page_size();
  std::vector<void*> holes;
  try {
    for (std::uint64_t i = 0; i < options.chunks; ++i) {
      chunks_.push_back(static_cast<Record*>(allocator.allocate(options.chunk_size)));
      // A page allocated right after each chunk and freed below leaves a gap
      // between neighbouring chunks.
      if (options.holes) holes.push_back(allocator.allocate(page));
    }
  } catch (...) {
    for (void* hole : holes) allocator.release(hole, page);
    for (Record* chunk : chunks_) allocator.release(chunk, options.chunk_size);
    throw;
  }
  for (void* hole : holes) allocator.release(hole, page);
  if (options.verbose > 0) log << "Allocated memory\n";

  write_pattern();
  if (options.verbose > 0) log << "Wrote memory\n";
  if (protect_failures_ > 0) {
    log << "ebizzy-nz: warning: -p: mprotect failed for " << protect_failures_ << " of "
        << (options.chunks + 1) / 2 << " chunks (" << std::strerror(protect_error_)
        << "); their pages stay writable\n";
  }
}

void ChunkSet::write_pattern() {
  // Record j of every chunk is j, so each chunk is sorted and every key below
  // records_per_chunk() is present exactly once.
  std::uint64_t records = options_.records_per_chunk();
  protected_.assign(chunks_.size(), false);
  for (std::size_t i = 0; i < chunks_.size(); ++i) {
    for (std::uint64_t j = 0; j < records; ++j) chunks_[i][j] = static_cast<Record>(j);
    if (options_.alternate_permissions && i % 2 == 0) {
      protected_[i] = protect_chunk(chunks_[i], options_.chunk_size, true);
      if (!protected_[i]) {
        ++protect_failures_;
        protect_error_ = errno;
      }
    }
  }
}

ChunkSet::~ChunkSet() {
  for (std::size_t i = 0; i < chunks_.size(); ++i) {
    // free() may write into the chunk's first page, so make it writable first.
    if (protected_.size() > i && protected_[i]) protect_chunk(chunks_[i], options_.chunk_size, false);
    allocator_.release(chunks_[i], options_.chunk_size);
  }
}

// The state the worker threads share. Workers only read it, except for the flags.
struct SharedState {
  const Options& options;
  const BufferAllocator& allocator;
  const ChunkSet& chunks;
  std::ostream& log;
  std::mutex log_mutex;
  std::atomic<bool> go{false};
  std::atomic<bool> stop{false};
};

struct WorkerOutcome {
  std::optional<SearchMiss> miss;
  std::exception_ptr error;
};

// Copies and searches until `stop`; the count goes to `counter` after every record.
void search_loop(SharedState& shared, std::uint64_t index, ThreadCounter& counter, WorkerOutcome& outcome) {
  const Options& options = shared.options;
  RecordGenerator generator =
      options.fixed_key ? RecordGenerator::original() : RecordGenerator::seeded(options.seed, index);
  std::size_t page = nozero::page_size();
  std::uint64_t records = 0;

  while (!shared.stop.load(std::memory_order_relaxed)) {
    std::uint64_t chunk = generator.below(options.chunks);
    const Record* source = shared.chunks.chunk(chunk);
    std::size_t copy_size = options.chunk_size;
    if (options.random_size) copy_size = (generator.below(options.records_per_chunk()) + 1) * sizeof(Record);
    auto* copy = static_cast<Record*>(shared.allocator.allocate(copy_size));

    if (options.touch_pages) {
      touch_pages(reinterpret_cast<char*>(copy), copy_size, page);
    } else {
      if (options.byte_copy) {
        copy_bytes(copy, source, copy_size);
      } else {
        std::memcpy(copy, source, copy_size);
      }
      std::size_t count = copy_size / sizeof(Record);
      auto key = static_cast<Record>(generator.below(count));
      if (options.verbose > 2) {
        std::lock_guard lock(shared.log_mutex);
        shared.log << "Search key " << key << ", copy size " << copy_size << "\n";
      }
      const Record* found =
          options.linear_search ? linear_search(key, copy, count) : binary_search(key, copy, count);
      // The copy contains every key below `count`, so a miss means the copy or the
      // chunk was corrupted.
      if (found == nullptr) {
        outcome.miss = SearchMiss{index, chunk, key, copy_size};
        shared.allocator.release(copy, copy_size);
        shared.stop.store(true, std::memory_order_relaxed);
        break;
      }
    }

    shared.allocator.release(copy, copy_size);
    counter.records.store(++records, std::memory_order_relaxed);
  }
}

void thread_main(SharedState& shared, std::uint64_t index, ThreadCounter& counter, WorkerOutcome& outcome) {
  if (shared.options.verbose > 1) {
    std::lock_guard lock(shared.log_mutex);
    shared.log << "Thread " << index << " started\n";
  }
  shared.go.wait(false);
  auto start = MonotonicClock::now();
  try {
    search_loop(shared, index, counter, outcome);
  } catch (...) {
    outcome.error = std::current_exception();
    shared.stop.store(true, std::memory_order_relaxed);
  }
  if (shared.options.verbose > 1) {
    std::lock_guard lock(shared.log_mutex);
    shared.log << "Thread " << index << " finished, " << nozero::seconds_between(start, MonotonicClock::now())
               << " seconds\n";
  }
}

std::uint64_t sum_records(const std::vector<ThreadCounter>& counters) {
  std::uint64_t total = 0;
  for (const ThreadCounter& counter : counters) total += counter.records.load(std::memory_order_relaxed);
  return total;
}

// Sleeps until `until` or until a worker sets `stop`, waking every 50 ms to check.
void sleep_until_or_stop(MonotonicClock::time_point until, const std::atomic<bool>& stop) {
  constexpr auto kPoll = std::chrono::milliseconds(50);
  for (auto now = MonotonicClock::now(); now < until && !stop.load(std::memory_order_relaxed);
       now = MonotonicClock::now()) {
    std::this_thread::sleep_until(std::min<MonotonicClock::time_point>(until, now + kPoll));
  }
}

void print_settings(const Options& options, std::ostream& log) {
  log << "ebizzy-nz, a port of ebizzy 0.3\n"
      << "always_mmap " << options.always_mmap << "\n"
      << "never_mmap " << options.never_mmap << "\n"
      << "chunks " << options.chunks << "\n"
      << "prevent coalescing using permissions " << options.alternate_permissions << "\n"
      << "prevent coalescing using holes " << options.holes << "\n"
      << "random_size " << options.random_size << "\n"
      << "chunk_size " << options.chunk_size << "\n"
      << "seconds " << options.seconds << "\n"
      << "threads " << options.threads << "\n"
      << "verbose " << options.verbose << "\n"
      << "linear " << options.linear_search << "\n"
      << "touch_pages " << options.touch_pages << "\n"
      << "nozero " << options.nozero << "\n"
      << "fixed_key " << options.fixed_key << "\n"
      << "seed " << options.seed << "\n"
      << "page size " << nozero::page_size() << "\n";
}

}  // namespace

RunResult run(const Options& options, std::ostream& log) {
  if (options.verbose > 0) print_settings(options, log);
  // Every malloc then comes from the brk heap, which grows and shrinks per buffer.
  if (options.never_mmap) {
    ::mallopt(M_MMAP_MAX, 0);
    // One arena: glibc gives each further thread an arena of its own, made with
    // mmap, so without this the threads' buffers would not come from the heap.
    ::mallopt(M_ARENA_MAX, 1);
  }

  BufferAllocator allocator(options.allocation());
  ChunkSet chunks(options, allocator, log);
  SharedState shared{options, allocator, chunks, log, {}, {}, {}};

  std::vector<ThreadCounter> counters(options.threads);
  std::vector<WorkerOutcome> outcomes(options.threads);
  std::vector<std::thread> threads;
  if (options.verbose > 0) log << "Threads starting\n";
  for (std::uint64_t i = 0; i < options.threads; ++i) {
    threads.emplace_back(thread_main, std::ref(shared), i, std::ref(counters[i]), std::ref(outcomes[i]));
  }

  // Measured phase: from opening the gate until every thread has joined.
  RunResult result;
  nozero::ResourceUsage usage_start = nozero::capture_rusage(RUSAGE_SELF);
  auto start = MonotonicClock::now();
  shared.go.store(true);
  shared.go.notify_all();

  auto deadline = start + nozero::to_duration(options.seconds);
  auto interval = nozero::to_duration(options.sample_interval_s);
  auto sample_start = start;
  std::uint64_t sample_records = 0;
  while (sample_start < deadline && !shared.stop.load(std::memory_order_relaxed)) {
    auto sample_end = std::min(sample_start + interval, deadline);
    sleep_until_or_stop(sample_end, shared.stop);
    auto now = MonotonicClock::now();
    std::uint64_t records = sum_records(counters);
    result.interval_rates.push_back(static_cast<double>(records - sample_records) /
                                    nozero::seconds_between(sample_start, now));
    sample_start = now;
    sample_records = records;
  }
  shared.stop.store(true);

  for (std::thread& thread : threads) thread.join();
  result.elapsed_s = nozero::seconds_between(start, MonotonicClock::now());
  result.usage = nozero::usage_between(usage_start, nozero::capture_rusage(RUSAGE_SELF));
  if (options.verbose > 0) log << "Threads finished\n";

  for (std::uint64_t i = 0; i < options.threads; ++i) {
    result.thread_records.push_back(counters[i].records.load());
    if (outcomes[i].error) std::rethrow_exception(outcomes[i].error);
    if (outcomes[i].miss && !result.miss) result.miss = outcomes[i].miss;
  }
  result.records = sum_records(counters);
  result.protect_failures = chunks.protect_failures();
  return result;
}

}  // namespace ebizzy

#include "options.h"

#include <unistd.h>

#include <limits>
#include <string>

#include "nozero/meminfo.h"

namespace ebizzy {
namespace {

namespace cli = nozero::cli;

// Upper bounds that only catch typos: memory is checked separately against
// MemAvailable.
constexpr std::uint64_t kMaxChunks = 1u << 24;
constexpr std::uint64_t kMaxThreads = 4096;
constexpr std::uint64_t kMaxChunkSize = 1ull << 40;
constexpr double kMaxSeconds = 7 * 24 * 3600;

}  // namespace

Allocation Options::allocation() const {
  if (nozero) return Allocation::mmap_nozero;
  if (always_mmap) return Allocation::mmap;
  return Allocation::malloc;
}

const char* to_string(Allocation allocation) {
  switch (allocation) {
    case Allocation::malloc:
      return "malloc";
    case Allocation::mmap:
      return "mmap";
    case Allocation::mmap_nozero:
      return "mmap-nozero";
  }
  return "malloc";
}

std::uint64_t default_threads() {
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  return 2 * static_cast<std::uint64_t>(cpus > 0 ? cpus : 1);
}

void add_options(CLI::App& app, Options& options) {
  if (options.threads == 0) options.threads = default_threads();

  app.add_flag("-m,--always-mmap", options.always_mmap,
               "Allocate every chunk and copy buffer with its own anonymous mmap");
  app.add_flag("-M,--never-mmap", options.never_mmap,
               "Never let malloc use mmap (mallopt M_MMAP_MAX=0, and M_ARENA_MAX=1 so that every thread allocates from the main arena), so buffers come from the brk heap");
  cli::add_count_option(app, "-n,--chunks", options.chunks, 1, kMaxChunks, "Number of memory chunks");
  app.add_flag("-p,--alternate-permissions", options.alternate_permissions,
               "Make every other chunk read-only, so adjacent mappings cannot merge");
  app.add_flag("-P,--holes", options.holes,
               "Leave a one-page hole after every chunk, so adjacent mappings cannot merge");
  app.add_flag("-R,--random-size", options.random_size,
               "Copy and search a random number of records instead of the whole chunk");
  cli::add_size_option(app, "-s,--chunk-size", options.chunk_size, sizeof(Record), kMaxChunkSize,
                       "Size of each chunk and copy buffer");
  cli::add_seconds_option(app, "-S,--seconds", options.seconds, 0.01, kMaxSeconds,
                          "Length of the measured phase");
  cli::add_count_option(app, "-t,--threads", options.threads, 1, kMaxThreads,
                        "Number of worker threads (default: 2 x online CPUs)");
  app.add_flag("-T,--touch-pages", options.touch_pages,
               "Only write one byte per page of each copy buffer: no copy, no search");
  app.add_flag("-l,--byte-copy", options.byte_copy, "Copy with a byte loop instead of memcpy");
  app.add_flag("-v,--verbose", options.verbose,
               "Print the settings; -vv also thread starts and ends, -vvv every search");
  app.add_flag("-z,--linear-search", options.linear_search, "Search linearly instead of with bsearch");
  app.add_flag("-N,--nozero", options.nozero,
               "Allocate every chunk and copy buffer with mmap(MAP_NOZERO); implies -m");
  app.add_flag("--fixed-key", options.fixed_key,
               "Reproduce ebizzy 0.3's generator, which always returns 0: every search copies "
               "chunk 0 and looks for key 0, and -R copies one record");
  cli::add_count_option(app, "--seed", options.seed, 0, std::numeric_limits<std::int64_t>::max(),
                        "Seed of the per-thread generators (thread i uses seed and i)");
  cli::add_seconds_option(app, "--sample-interval", options.sample_interval_s, 0.01, kMaxSeconds,
                          "Length of each records/s sample in the result document");
  cli::add_json_option(app, options.json);
}

void validate(const Options& options, std::optional<std::uint64_t> mem_available, std::ostream& warnings) {
  cli::reject_combination(options.always_mmap, "-m,--always-mmap", options.never_mmap, "-M,--never-mmap",
                          "choose one allocation mode");
  cli::reject_combination(options.nozero, "-N,--nozero", options.never_mmap, "-M,--never-mmap",
                          "-N allocates every buffer with mmap(MAP_NOZERO), so malloc is not used");

  // Each thread has one copy buffer at a time. Holes are freed before the run.
  std::uint64_t buffers = options.chunks + options.threads;
  std::string purpose = std::to_string(options.chunks) + " chunks (-n) and " + std::to_string(options.threads) +
                        " copy buffers (-t) of this size";
  cli::require_memory({"-s,--chunk-size", options.chunk_size, sizeof(Record), buffers, purpose}, mem_available,
                      warnings);
}

nlohmann::ordered_json to_json(const Options& options) {
  return nlohmann::ordered_json{
      {"always_mmap", options.always_mmap},
      {"never_mmap", options.never_mmap},
      {"chunks", options.chunks},
      {"alternate_permissions", options.alternate_permissions},
      {"holes", options.holes},
      {"random_size", options.random_size},
      {"chunk_size", options.chunk_size},
      {"seconds", options.seconds},
      {"threads", options.threads},
      {"touch_pages", options.touch_pages},
      {"byte_copy", options.byte_copy},
      {"verbose", options.verbose},
      {"linear_search", options.linear_search},
      {"nozero", options.nozero},
      {"fixed_key", options.fixed_key},
      {"seed", options.seed},
      {"sample_interval_s", options.sample_interval_s},
      {"allocation", to_string(options.allocation())},
      {"record_size", sizeof(Record)},
      {"page_size", nozero::page_size()},
  };
}

}  // namespace ebizzy

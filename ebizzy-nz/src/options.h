// ebizzy-nz's command line: ebizzy 0.3's single-letter options, long names for
// each, and the additions of this port (-N, --fixed-key, --seed, --json).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "nozero/cli.h"

namespace ebizzy {

// ebizzy's record: a size_t, so a 512 KiB chunk contains 64 Ki records.
using Record = std::size_t;

enum class Allocation {
  malloc,       // malloc/free (the default, and -M with mmap switched off in glibc)
  mmap,         // -m: one anonymous mapping per chunk and per copy buffer
  mmap_nozero,  // -N: the same mappings with MAP_NOZERO
};

struct Options {
  bool always_mmap = false;            // -m
  bool never_mmap = false;             // -M
  std::uint64_t chunks = 10;           // -n
  bool alternate_permissions = false;  // -p
  bool holes = false;                  // -P
  bool random_size = false;            // -R
  std::uint64_t chunk_size = 64 * 1024 * sizeof(Record);  // -s, bytes
  double seconds = 10;                 // -S
  std::uint64_t threads = 0;           // -t; 0 until parsing sets the default
  bool touch_pages = false;            // -T
  bool byte_copy = false;              // -l
  int verbose = 0;                     // -v, repeatable
  bool linear_search = false;          // -z
  bool nozero = false;                 // -N
  bool fixed_key = false;              // --fixed-key
  std::uint64_t seed = 1;              // --seed
  double sample_interval_s = 1.0;      // --sample-interval
  nozero::cli::JsonDestination json;

  Allocation allocation() const;
  std::uint64_t records_per_chunk() const { return chunk_size / sizeof(Record); }
};

// "malloc", "mmap" or "mmap-nozero".
const char* to_string(Allocation allocation);

// Twice the online CPUs, ebizzy's default thread count.
std::uint64_t default_threads();

// Registers every option on `app`, writing into `options`. Value checks (ranges)
// run while CLI11 parses.
void add_options(CLI::App& app, Options& options);

// Checks what a single option cannot: incompatible options and the memory the
// run needs against `mem_available` bytes. Throws nozero::cli::UsageError.
void validate(const Options& options, std::optional<std::uint64_t> mem_available, std::ostream& warnings);

// Every option, resolved, for the result document's "parameters".
nlohmann::ordered_json to_json(const Options& options);

}  // namespace ebizzy

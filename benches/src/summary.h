// Derived numbers from the JSON output of nzbench-fault and nzbench-clear: the
// share of a page fault that a user-space clear costs, the speed-up that removing a
// clear of that cost would give, the physical-limit line, and the measured MAP_NOZERO
// speed-up.
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nozero::benches {

inline constexpr const char* kSummarySchema = "nozero-bench/bench-summary";
inline constexpr int kSummarySchemaVersion = 1;

// Invalid input: a file that is missing, not Google Benchmark JSON, or measured in a
// different place than the others. The message names the file.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One benchmark's numbers: the "median" aggregate when the file has repetitions
// with aggregates, otherwise the mean over its iteration runs.
struct BenchmarkValues {
  std::map<std::string, double> values;  // cpu_time, real_time and every counter
  std::string basis;                      // "median of 5 repetitions", "1 run", ...
  std::string label;
  std::optional<std::string> error;       // error_message of a skipped benchmark
};

struct BenchmarkFile {
  std::string path;
  nlohmann::json context;
  std::map<std::string, BenchmarkValues> benchmarks;
};

// Parses one file written with --benchmark_format=json or --benchmark_out.
BenchmarkFile parse_benchmark_file(const std::string& path, const std::string& text);
BenchmarkFile load_benchmark_file(const std::string& path);

// Combines files of one place and kernel. Throws InputError when their context
// entries measured_on or kernel_release differ, or when no file has a benchmark this
// summary recognises.
nlohmann::ordered_json summarise(const std::vector<BenchmarkFile>& files);

// A plain-text rendering of summarise()'s result, every timing labelled with where
// it was measured.
std::string format_summary(const nlohmann::ordered_json& summary);

}  // namespace nozero::benches

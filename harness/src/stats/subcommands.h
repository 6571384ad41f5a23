// The compare, gate and report subcommands as functions, so tests can run them
// without a process; add_stats_commands wires them to the command line.
#pragma once

#include <filesystem>
#include <iosfwd>
#include <string>
#include <vector>

#include "stats/comparison.h"
#include "stats/gate.h"

namespace nozero::stats {

struct CompareRequest {
  std::filesystem::path baseline;   // A
  std::filesystem::path candidate;  // B
  CompareOptions options;
  bool force = false;
  std::filesystem::path json_out;  // empty: no JSON file
};

// Prints the comparison table; returns the exit status (0, or 2 through CommandError).
int run_compare(const CompareRequest& request, std::ostream& out, std::ostream& err);

struct GateRequest {
  std::filesystem::path baseline;
  std::filesystem::path results;
  GateOptions options;
  bool force = false;
  std::filesystem::path json_out;
};

// Returns 0 when every checked metric passes, 1 on a regression, 2 when the gate
// cannot decide.
int run_gate(const GateRequest& request, std::ostream& out, std::ostream& err);

struct ReportRequest {
  std::vector<std::filesystem::path> results;
  std::filesystem::path out_dir;
  bool force = false;
  std::filesystem::path python = "/usr/bin/python3";
  std::filesystem::path scripts_dir;  // empty: the reports/ directory of this source tree
  std::size_t resamples = kDefaultResamples;
  std::uint64_t seed = kDefaultSeed;
};

// Writes report.json, report.md and report.html into out_dir.
int run_report(const ReportRequest& request, std::ostream& out, std::ostream& err);

struct IndexRequest {
  std::filesystem::path dir;
  std::filesystem::path python = "/usr/bin/python3";
  std::filesystem::path scripts_dir;
};

// Writes index.json and index.html over every report directory below dir.
int run_index(const IndexRequest& request, std::ostream& out, std::ostream& err);

}  // namespace nozero::stats

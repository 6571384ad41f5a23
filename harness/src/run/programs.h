// The programs a suite's workloads can run, and how each one is told to use
// MAP_NOZERO and where its measurements come from.
#pragma once

#include <string_view>

namespace nozero::run {

enum class NozeroRequest {
  flag,  // the program's own -N option (MAP_NOZERO on its mappings)
  exec,  // run under nozero-exec (the process-wide opt-in, inherited by children)
};

struct Program {
  std::string_view name;
  // File name in the build's bin directory; empty when the workload gives its own
  // command (make, command).
  std::string_view binary;
  NozeroRequest nozero;
  // Writes a nozero-bench/workload document with --json=FILE.
  bool writes_json;
  // The metric the summary compares when the workload names none.
  std::string_view default_metric;
};

inline constexpr Program kPrograms[] = {
    {"ebizzy-nz", "ebizzy-nz", NozeroRequest::flag, true, "records_per_s"},
    {"nzmmap-test", "nzmmap-test", NozeroRequest::flag, true, "wall_s"},
    {"nzmalloc-test", "nzmalloc-test", NozeroRequest::flag, true, "wall_s"},
    {"cc-sim", "cc-sim", NozeroRequest::flag, true, "wall_s"},
    // The system's make and gcc building a source tree the harness prepares.
    {"make", "", NozeroRequest::exec, false, "wall_s"},
    // Any command; the suite gives its argv.
    {"command", "", NozeroRequest::exec, false, "wall_s"},
};

// Returns nullptr for an unknown name.
const Program* find_program(std::string_view name);

// The leak checker started beside nozero runs, and the wrapper of NozeroRequest::exec.
inline constexpr std::string_view kSmiffyBinary = "smiffy";
inline constexpr std::string_view kNozeroExecBinary = "nozero-exec";

}  // namespace nozero::run

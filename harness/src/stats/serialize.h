// JSON forms of the statistics, written by compare --json, gate --json and report.
// NaN and infinity become null, as nlohmann::json writes them.
#pragma once

#include <nlohmann/json.hpp>

#include "stats/comparison.h"
#include "stats/gate.h"

namespace nozero::stats {

nlohmann::ordered_json to_json(const Summary& summary);
nlohmann::ordered_json to_json(const RatioInterval& interval);
nlohmann::ordered_json to_json(const MannWhitneyResult& test);
nlohmann::ordered_json to_json(const Comparison& comparison);
nlohmann::ordered_json to_json(const ResultsComparison& comparison);
nlohmann::ordered_json to_json(const GateResult& gate);

std::string to_string(Verdict verdict);

// Writes text to path through a temporary file and a rename, so a reader never sees
// half a file. Throws CommandError on failure.
void write_file_atomically(const std::filesystem::path& path, const std::string& text);

}  // namespace nozero::stats

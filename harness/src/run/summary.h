// The console summary `nozero-bench run` prints at the end: per workload, the
// median of its metric in each arm, the nozero/baseline ratio, the reused-page
// rate, clear_page hits per arm and the leak count, every timing labelled with
// where it was measured; then the projection for this host.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace nozero::run {

// Summarises a results document (warmups and unfinished runs excluded).
std::string format_summary(const nlohmann::json& results);

// The projection block as text, "" when there is none.
std::string format_projection(const nlohmann::json& projection);

// Non-zero pages smiffy reported over every run of the document, or -1 when no
// run had a leak check.
long long total_leaks(const nlohmann::json& results);

// Measured runs whose status is not ok. A failed warmup shows in its own entry but
// does not count: its workload's measured runs say whether the data is complete.
std::size_t unfinished_runs(const nlohmann::json& results);

}  // namespace nozero::run

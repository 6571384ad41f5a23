// The projection: what MAP_NOZERO would save on this host's hardware, estimated
// from the guest's count of clears avoided and the host's measured cost of a clear.
//
// Guest timings are emulated and cannot be transferred, but counts can. The guest
// measures, per unit of the workload's work, how many 4 KiB pages (nozero_reuse,
// the leak checker's own taken out) and large folios (nozero_thp_reuse) were
// handed over without clearing. A unit is one record for a workload that reports a
// rate such as records/s, and one run for a workload that does fixed work. The
// host's baseline runs give the units of work and the CPU time on real hardware.
// The host clearing benchmark (rep stosb, which clear_page_erms runs, on a cold
// buffer) gives the cost of one 4 KiB and one 2 MiB clear. Then
//   clears avoided on the host = host units of work * guest clears avoided per unit,
//                                at most the host runs' minor faults
//   time saved                 = clears avoided * cost of one clear
// The estimate ignores that a skipped clear also leaves the cache as it was, and
// counts a folio's clear as 2 MiB whatever the host's THP mode. The host's perf
// share of clear_page is reported beside it as the measured ceiling.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace nozero::run {

struct ClearCost {
  double ns_per_4k = 0;
  double ns_per_2m = 0;
  std::string source;
};

// The host's clear cost from the benchmarks of a host results document
// (nzbench-clear clear/rep_stosb/{4k,2m}/cold). Sets why_not when it is absent.
std::optional<ClearCost> host_clear_cost(const nlohmann::json& host_results, std::string& why_not);

// The "projection" block of results.json. host_results may be null; the block then
// says why there is no projection.
nlohmann::ordered_json make_projection(const nlohmann::json& guest_results, const nlohmann::json& host_results);

}  // namespace nozero::run

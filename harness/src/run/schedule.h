// The order in which a suite's runs execute and how they are grouped into boots.
//
// Measured runs go in rounds: round r holds repetition r of every workload and arm,
// shuffled with a seeded generator, so the arms of a workload interleave and no arm
// always runs first or last. Runs of the patched and the unpatched kernel form
// separate groups inside a round (a boot has one kernel), in a seeded order. The
// sequence is then cut into boots of at most Suite::runs_per_boot measured runs, and
// every boot runs Workload::warmups warmup runs of a workload right before its
// first measured run of that workload in the boot, in that run's arm. A warmup
// loads the programs through 9p into the guest's page cache and settles the
// allocator; it is excluded from statistics.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "run/suite.h"

namespace nozero::run {

enum class KernelKind { patched, unpatched };

std::string_view to_string(KernelKind kind);
KernelKind kernel_for(Arm arm);

struct PlannedRun {
  // Position in the execution order, warmups included; names runs/NNNN/.
  std::size_t index = 0;
  std::string workload;
  Arm arm = Arm::baseline;
  // Repetition number of a measured run, or the warmup's number within its boot.
  unsigned repetition = 0;
  bool warmup = false;
  std::size_t boot = 0;
};

struct Boot {
  std::size_t index = 0;
  KernelKind kernel = KernelKind::patched;
  // Indices into Schedule::runs, in execution order.
  std::vector<std::size_t> runs;
};

struct Schedule {
  std::uint64_t seed = 0;
  std::vector<PlannedRun> runs;
  std::vector<Boot> boots;
};

Schedule make_schedule(const Suite& suite, std::uint64_t seed);

// A uniform integer in [0, bound) from the generator's own output, so a seed gives
// the same order with every standard library (std::uniform_int_distribution and
// std::shuffle are implementation-defined).
std::uint64_t uniform_below(std::mt19937_64& generator, std::uint64_t bound);

// Fisher-Yates with uniform_below.
template <typename T>
void seeded_shuffle(std::vector<T>& items, std::mt19937_64& generator) {
  for (std::size_t i = items.size(); i > 1; --i) {
    std::size_t j = static_cast<std::size_t>(uniform_below(generator, i));
    std::swap(items[i - 1], items[j]);
  }
}

}  // namespace nozero::run

#include "run/schedule.h"

#include <algorithm>
#include <set>
#include <utility>

namespace nozero::run {

std::string_view to_string(KernelKind kind) {
  return kind == KernelKind::patched ? "patched" : "unpatched";
}

KernelKind kernel_for(Arm arm) {
  return arm == Arm::unpatched ? KernelKind::unpatched : KernelKind::patched;
}

std::uint64_t uniform_below(std::mt19937_64& generator, std::uint64_t bound) {
  // Reject the top partial range so every value is equally likely.
  const std::uint64_t limit = std::mt19937_64::max() - std::mt19937_64::max() % bound;
  std::uint64_t value = generator();
  while (value >= limit) value = generator();
  return value % bound;
}

namespace {

struct MeasuredRun {
  std::string workload;
  Arm arm;
  unsigned repetition;
};

// The measured runs in execution order: shuffled rounds, one kernel group at a time.
std::vector<MeasuredRun> interleave(const Suite& suite, std::mt19937_64& generator) {
  unsigned rounds = 0;
  for (const Workload& workload : suite.workloads) rounds = std::max(rounds, workload.repetitions);

  std::vector<MeasuredRun> order;
  for (unsigned round = 0; round < rounds; ++round) {
    std::vector<MeasuredRun> patched;
    std::vector<MeasuredRun> unpatched;
    for (const Workload& workload : suite.workloads) {
      if (round >= workload.repetitions) continue;
      for (Arm arm : workload.arms) {
        auto& group = kernel_for(arm) == KernelKind::patched ? patched : unpatched;
        group.push_back({workload.name, arm, round});
      }
    }
    seeded_shuffle(patched, generator);
    seeded_shuffle(unpatched, generator);
    bool unpatched_first = uniform_below(generator, 2) == 1;
    auto& first = unpatched_first ? unpatched : patched;
    auto& second = unpatched_first ? patched : unpatched;
    order.insert(order.end(), first.begin(), first.end());
    order.insert(order.end(), second.begin(), second.end());
  }
  return order;
}

}  // namespace

Schedule make_schedule(const Suite& suite, std::uint64_t seed) {
  Schedule schedule;
  schedule.seed = seed;
  std::mt19937_64 generator(seed);
  std::vector<MeasuredRun> measured = interleave(suite, generator);

  // Cut into boots: a boot ends when the kernel changes or it is full.
  std::vector<std::pair<KernelKind, std::vector<MeasuredRun>>> boots;
  for (MeasuredRun& run : measured) {
    KernelKind kernel = kernel_for(run.arm);
    bool full = suite.runs_per_boot != 0 && !boots.empty() &&
                boots.back().second.size() >= suite.runs_per_boot;
    if (boots.empty() || boots.back().first != kernel || full) boots.push_back({kernel, {}});
    boots.back().second.push_back(std::move(run));
  }

  for (auto& [kernel, runs] : boots) {
    Boot boot;
    boot.index = schedule.boots.size();
    boot.kernel = kernel;
    std::set<std::string> warmed_up;
    for (const MeasuredRun& run : runs) {
      if (warmed_up.insert(run.workload).second) {
        unsigned warmups = suite.find_workload(run.workload)->warmups;
        for (unsigned number = 0; number < warmups; ++number) {
          boot.runs.push_back(schedule.runs.size());
          schedule.runs.push_back({schedule.runs.size(), run.workload, run.arm, number, true, boot.index});
        }
      }
      boot.runs.push_back(schedule.runs.size());
      schedule.runs.push_back({schedule.runs.size(), run.workload, run.arm, run.repetition, false, boot.index});
    }
    schedule.boots.push_back(std::move(boot));
  }
  return schedule;
}

}  // namespace nozero::run

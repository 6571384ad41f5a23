// Progress lines with an estimate of the time left, for stderr.
//
// The estimate charges every pending run the mean time that runs of the same
// workload took so far (from one finished run to the next, so capture overhead is
// included), or the mean of all runs for a workload not seen yet, plus the mean
// boot time for every boot still to come. Before anything finished it has nothing
// to go on and says so.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace nozero::run {

class Progress {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  explicit Progress(Clock clock = std::chrono::steady_clock::now);

  // Declares the work: the workload of every pending run, in order, and the number
  // of boots. Resets the elapsed time.
  void begin(std::vector<std::string> pending_workloads, std::size_t boots);
  void boot_started();
  // The guest runner printed its first line: the boot itself is over.
  void guest_ready();
  void boot_finished();
  // Returns the progress line for a finished run.
  std::string run_finished(const std::string& description, const std::string& status);
  // Seconds left, or nullopt before the first run finished.
  std::optional<double> remaining_s() const;
  double elapsed_s() const;

 private:
  Clock clock_;
  std::chrono::steady_clock::time_point started_;
  std::chrono::steady_clock::time_point last_event_;
  std::vector<std::string> pending_;
  std::size_t total_runs_ = 0;
  std::size_t finished_runs_ = 0;
  std::size_t boots_total_ = 0;
  std::size_t boots_finished_ = 0;
  std::chrono::steady_clock::time_point boot_started_;
  bool boot_running_ = false;
  double boot_seconds_ = 0;
  std::map<std::string, std::pair<double, std::size_t>> run_seconds_;
};

}  // namespace nozero::run

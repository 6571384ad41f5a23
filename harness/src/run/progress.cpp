#include "run/progress.h"

#include "core/files.h"

#include <algorithm>
#include <cstdio>

namespace nozero::run {

Progress::Progress(Clock clock) : clock_(std::move(clock)) {
  started_ = clock_();
  last_event_ = started_;
}

void Progress::begin(std::vector<std::string> pending_workloads, std::size_t boots) {
  pending_ = std::move(pending_workloads);
  total_runs_ = pending_.size();
  finished_runs_ = 0;
  boots_total_ = boots;
  boots_finished_ = 0;
  started_ = clock_();
  last_event_ = started_;
}

void Progress::boot_started() {
  boot_started_ = clock_();
  last_event_ = boot_started_;
  boot_running_ = true;
}

void Progress::guest_ready() {
  auto now = clock_();
  boot_seconds_ += std::chrono::duration<double>(now - last_event_).count();
  last_event_ = now;
}

void Progress::boot_finished() {
  if (!boot_running_) return;
  boot_running_ = false;
  ++boots_finished_;
  // The time the boot took beyond its runs: start-up if the guest never reported,
  // power-off, profile summaries.
  auto now = clock_();
  boot_seconds_ += std::chrono::duration<double>(now - last_event_).count();
  last_event_ = now;
}

std::string Progress::run_finished(const std::string& description, const std::string& status) {
  auto now = clock_();
  double seconds = std::chrono::duration<double>(now - last_event_).count();
  last_event_ = now;
  std::string workload;
  if (!pending_.empty()) {
    workload = pending_.front();
    pending_.erase(pending_.begin());
  }
  auto& [sum, count] = run_seconds_[workload];
  sum += seconds;
  ++count;
  ++finished_runs_;

  char counter[32];
  std::snprintf(counter, sizeof counter, "[%zu/%zu]", finished_runs_, total_runs_);
  std::string line = std::string{counter} + " " + description + ": " + status + " | " +
                     format_duration(elapsed_s()) + " elapsed";
  if (std::optional<double> left = remaining_s()) line += ", about " + format_duration(*left) + " left";
  return line;
}

std::optional<double> Progress::remaining_s() const {
  if (finished_runs_ == 0) return std::nullopt;
  double all_sum = 0;
  std::size_t all_count = 0;
  for (const auto& [name, entry] : run_seconds_) {
    all_sum += entry.first;
    all_count += entry.second;
  }
  double overall_mean = all_sum / static_cast<double>(all_count);
  double left = 0;
  for (const std::string& workload : pending_) {
    auto found = run_seconds_.find(workload);
    left += found == run_seconds_.end() ? overall_mean : found->second.first / static_cast<double>(found->second.second);
  }
  std::size_t boots_left = boots_total_ > boots_finished_ ? boots_total_ - boots_finished_ : 0;
  // A running boot has already paid its start-up.
  if (boot_running_ && boots_left > 0) --boots_left;
  double boot_mean = boots_finished_ == 0 ? 10.0 : boot_seconds_ / static_cast<double>(boots_finished_);
  return left + static_cast<double>(boots_left) * boot_mean;
}

double Progress::elapsed_s() const { return std::chrono::duration<double>(clock_() - started_).count(); }

}  // namespace nozero::run

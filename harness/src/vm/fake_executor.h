// An Executor that never boots a guest, for tests of code that schedules runs.
// It records each call and passes it to a handler the test provides.
#pragma once

#include <functional>
#include <utility>
#include <vector>

#include "vm/executor.h"

namespace nozero::vm {

class FakeExecutor : public Executor {
 public:
  // Produces the result of one call; it may write to the sinks as a guest would.
  using Handler =
      std::function<ExecResult(const VmConfig&, const GuestCommand&, const OutputStreams&)>;

  explicit FakeExecutor(Handler handler) : handler_(std::move(handler)) {}

  ExecResult run(const VmConfig& config, const GuestCommand& command,
                 const OutputSink& output) override {
    return run_streams(config, command, {output, output});
  }

  ExecResult run_streams(const VmConfig& config, const GuestCommand& command,
                         const OutputStreams& streams) override {
    calls_.emplace_back(config, command);
    return handler_(config, command, streams);
  }

  const std::vector<std::pair<VmConfig, GuestCommand>>& calls() const { return calls_; }

 private:
  Handler handler_;
  std::vector<std::pair<VmConfig, GuestCommand>> calls_;
};

}  // namespace nozero::vm

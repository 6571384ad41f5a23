// An Executor that runs the command on the host itself, for `run --host`: the same
// guest-run runner measures the workloads on the running kernel and real hardware.
// VmConfig's kernel image, CPUs, memory and THP are ignored; the command runs as
// the calling user, because switching users needs no VM.
#pragma once

#include "vm/executor.h"

namespace nozero::run {

class HostExecutor : public vm::Executor {
 public:
  vm::ExecResult run(const vm::VmConfig& config, const vm::GuestCommand& command,
                     const vm::OutputSink& output) override;
};

}  // namespace nozero::run

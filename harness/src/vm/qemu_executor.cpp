#include "vm/qemu_executor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "core/errors.h"
#include "core/files.h"
#include "core/process.h"
#include "kernel/build.h"
#include "vm/accelerator.h"
#include "vm/guest_protocol.h"
#include "vm/initramfs.h"
#include "vm/qemu_command.h"

#ifndef NOZERO_GUEST_INIT_PATH
#error "NOZERO_GUEST_INIT_PATH must name the nozero-guest-init of this build tree"
#endif

namespace nozero::vm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using protocol::FrameType;

// After the exit frame the guest syncs and powers off within a second or two.
constexpr std::chrono::seconds kPowerOffGrace{20};
constexpr std::size_t kMaxQemuStderr = 16 * 1024;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

class FileDescriptor {
 public:
  FileDescriptor() = default;
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() { reset(); }
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

void validate(const VmConfig& config, const GuestCommand& command) {
  if (config.kernel_image.empty())
    throw CommandError("no kernel image given; pass --kernel IMAGE or run `nozero-bench kernel build`");
  if (!fs::is_regular_file(config.kernel_image))
    throw CommandError("kernel image " + config.kernel_image.string() +
                       " not found; run `nozero-bench kernel build` or pass --kernel IMAGE");
  if (config.cpus < 1 || config.cpus > 64)
    throw CommandError("invalid CPU count " + std::to_string(config.cpus) + "; expected 1 to 64");
  if (config.memory_mib < 128)
    throw CommandError("invalid guest memory " + std::to_string(config.memory_mib) +
                       " MiB; a guest needs at least 128 MiB");
  check_thp_mode(config.thp);
  if (config.timeout.count() <= 0)
    throw CommandError("invalid timeout " + std::to_string(config.timeout.count()) +
                       " s; expected a positive number of seconds");
  if (!config.share_dir.empty()) {
    if (!fs::is_directory(config.share_dir))
      throw CommandError("share directory " + config.share_dir.string() +
                         " does not exist; create it or pass another --share DIR");
    if (fs::canonical(config.share_dir) == "/")
      throw CommandError("the share directory cannot be / (the host root is already mounted)");
  }
  if (command.argv.empty()) throw CommandError("no command given; put it after --");
  if (!command.cwd.is_absolute())
    throw CommandError("the guest working directory " + command.cwd.string() +
                       " must be an absolute path");
}

FileDescriptor listen_on(const fs::path& socket_path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.string().size() >= sizeof address.sun_path)
    throw CommandError("the socket path " + socket_path.string() +
                       " is too long for a UNIX socket; set TMPDIR to a shorter directory");
  std::strcpy(address.sun_path, socket_path.c_str());
  FileDescriptor listener{::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (listener.get() < 0 ||
      ::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener.get(), 1) != 0)
    throw CommandError("cannot listen on " + socket_path.string() + ": " + std::strerror(errno),
                       kExitFailure);
  return listener;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR || errno == EAGAIN) {
        pollfd ready{fd, POLLOUT, 0};
        ::poll(&ready, 1, 1000);
        continue;
      }
      return;  // The guest is gone; its power-off or the timeout ends the run.
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
}

std::string request_json(const VmConfig& config, const GuestCommand& command) {
  nlohmann::json request = {
      {"argv", command.argv},
      {"uid", command.uid},
      {"gid", command.gid},
      {"env", command.env},
      {"cwd", command.cwd.string()},
      {"share_dir", config.share_dir.empty() ? std::string{} : fs::canonical(config.share_dir).string()},
      {"hostname", "nozero-guest"},
      {"thp", config.thp},
  };
  return request.dump();
}

// State of one guest run, fed by the frame channel and QEMU's process events.
struct RunState {
  Clock::time_point started = Clock::now();
  std::optional<Clock::time_point> command_started;
  std::optional<Clock::time_point> command_exited;
  std::string guest_failure;
  std::string qemu_stderr;
  bool qemu_exited = false;
  int qemu_status = -1;
};

void handle_frame(const protocol::Frame& frame, const OutputStreams& streams, int channel,
                  RunState& state, ExecResult& result) {
  switch (frame.type) {
    case FrameType::stdout_data:
      if (streams.stdout_sink) streams.stdout_sink(frame.payload);
      break;
    case FrameType::stderr_data:
      if (streams.stderr_sink) streams.stderr_sink(frame.payload);
      break;
    case FrameType::started: {
      state.command_started = Clock::now();
      result.boot_s = seconds_since(state.started);
      auto json = nlohmann::json::parse(frame.payload, nullptr, false);
      if (json.is_object()) {
        result.kernel_release = json.value("release", "");
        result.kernel_cmdline = json.value("cmdline", result.kernel_cmdline);
      }
      break;
    }
    case FrameType::exited: {
      state.command_exited = Clock::now();
      if (state.command_started)
        result.command_s = std::chrono::duration<double>(*state.command_exited -
                                                         *state.command_started)
                               .count();
      auto json = nlohmann::json::parse(frame.payload, nullptr, false);
      result.exit_status = json.is_object() ? json.value("status", -1) : -1;
      write_all(channel, protocol::encode_frame(FrameType::ack, {}));
      break;
    }
    case FrameType::failed:
      state.guest_failure = frame.payload;
      state.command_exited = Clock::now();
      write_all(channel, protocol::encode_frame(FrameType::ack, {}));
      break;
    case FrameType::log:
    case FrameType::ack:
      break;
  }
}

// Reads what arrived on a non-blocking descriptor; returns false at end of file.
bool read_available(int fd, const std::function<void(std::string_view)>& consume) {
  char buffer[65536];
  for (;;) {
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got > 0) {
      consume({buffer, static_cast<size_t>(got)});
      continue;
    }
    if (got == 0) return false;
    if (errno == EINTR) continue;
    return errno == EAGAIN || errno == EWOULDBLOCK;
  }
}

// Passes what the console log gained since the last call to the console sink.
class ConsoleFollower {
 public:
  ConsoleFollower(const fs::path& path, std::function<void(std::string_view)> sink)
      : path_(path), sink_(std::move(sink)) {}
  void poll() {
    if (!sink_) return;
    std::ifstream input(path_, std::ios::binary);
    if (!input) return;
    input.seekg(static_cast<std::streamoff>(offset_));
    std::string text{std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>()};
    offset_ += text.size();
    if (!text.empty()) sink_(text);
  }
  bool active() const { return static_cast<bool>(sink_); }

 private:
  fs::path path_;
  std::function<void(std::string_view)> sink_;
  std::size_t offset_ = 0;
};

std::string first_lines(const std::string& text, std::size_t count) {
  std::istringstream lines{text};
  std::string kept;
  std::size_t index = 0;
  for (std::string line; index < count && std::getline(lines, line); ++index)
    kept += (kept.empty() ? "" : "; ") + line;
  return kept;
}

std::string describe_failure(const VmConfig& config, const RunState& state,
                             const ExecResult& result, const std::string& channel_error) {
  std::string console = "console log: " + result.console_log.string();
  std::string last_lines = console_tail(result.console_log, 15);
  std::string tail = last_lines.empty() ? "" : "\nlast lines of the console log:\n" + last_lines;
  if (result.timed_out) {
    std::string where = state.command_started
                            ? "the command was still running"
                            : "the command never started (the guest hung while booting)";
    return "the guest timed out after " + std::to_string(config.timeout.count()) +
           " s (the --timeout limit) and was killed: " + where + "; " + console + tail;
  }
  if (!channel_error.empty())
    return "the guest channel carried corrupt data (" + channel_error + "); " + console;
  if (!state.guest_failure.empty())
    return "the guest could not run the command: " + state.guest_failure + "; " + console + tail;
  if (result.exit_status < 0) {
    std::string console_text;
    std::ifstream input(result.console_log, std::ios::binary);
    console_text.assign(std::istreambuf_iterator<char>(input), std::istreambuf_iterator<char>());
    if (auto panic = find_kernel_panic(console_text))
      return "the guest kernel panicked (" + *panic + ") before the command finished; " + console +
             tail;
    std::string qemu_errors = first_lines(state.qemu_stderr, 5);
    return "QEMU exited with status " + std::to_string(state.qemu_status) +
           " before the command finished" + (qemu_errors.empty() ? "" : ": " + qemu_errors) +
           "; " + console + tail;
  }
  return {};
}

}  // namespace

fs::path find_guest_init(const fs::path& requested) {
  if (!requested.empty()) {
    if (!fs::is_regular_file(requested))
      throw CommandError("guest init program " + requested.string() + " not found");
    return requested;
  }
  auto beside = executable_dir() / "nozero-guest-init";
  if (fs::is_regular_file(beside)) return beside;
  fs::path built = NOZERO_GUEST_INIT_PATH;
  if (fs::is_regular_file(built)) return built;
  throw CommandError("nozero-guest-init not found next to " + executable_dir().string() + " or at " +
                     built.string() + "; build it with `cmake --build <build dir> --target "
                     "nozero-guest-init`");
}

fs::path default_kernel_image(const fs::path& cache_dir) {
  fs::path directory = cache_dir.empty() ? kernel::default_cache_dir() : cache_dir;
  auto build = kernel::newest_build(directory, true);
  if (!build)
    throw CommandError("no patched kernel build in " + directory.string() +
                       "; run `nozero-bench kernel build` first, or pass --kernel IMAGE");
  return build->image;
}

fs::path default_console_log() {
  auto now = std::chrono::system_clock::now();
  std::string stamp = utc_timestamp(now);
  std::replace(stamp.begin(), stamp.end(), ':', '-');
  return cache_root() / "vm" / ("console-" + stamp + "-" + std::to_string(::getpid()) + ".log");
}

std::optional<std::string> find_kernel_panic(const std::string& console_text) {
  static const std::regex kPanic{R"(Kernel panic - not syncing:[^\r\n]*)"};
  std::smatch match;
  if (!std::regex_search(console_text, match, kPanic)) return std::nullopt;
  return match.str();
}

std::string console_tail(const fs::path& console_log, std::size_t count) {
  std::ifstream input(console_log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(input, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
    if (lines.size() > count) lines.erase(lines.begin());
  }
  std::string text;
  for (const auto& line : lines) text += "  " + line + "\n";
  return text;
}

ExecResult QemuExecutor::run(const VmConfig& config, const GuestCommand& command,
                             const OutputSink& output) {
  return run_streams(config, command, {output, output});
}

ExecResult QemuExecutor::run_streams(const VmConfig& config, const GuestCommand& command,
                                     const OutputStreams& streams) {
  validate(config, command);
  fs::path guest_init = find_guest_init(config.guest_init);

  ExecResult result;
  if (config.accelerator == Accelerator::automatic && config.status_sink)
    config.status_sink("choosing the accelerator (a KVM probe takes up to " +
                       std::to_string(kProbeTimeout.count() / 1000) + " s when not cached)");
  auto choice = choose_accelerator(
      config.accelerator, config,
      config.kvm_probe_cache.empty() ? default_probe_cache() : config.kvm_probe_cache);
  result.accelerator = choice.accelerator;
  result.accelerator_reason = choice.reason;
  if (config.status_sink)
    config.status_sink("accelerator " + std::string{to_string(choice.accelerator)} + ": " +
                       choice.reason);

  TempDirectory run_directory("nozero-vm");
  GuestFiles files;
  files.initramfs = run_directory.path() / "initramfs.cpio";
  files.channel_socket = run_directory.path() / "channel.sock";
  files.console_log = config.console_log.empty() ? default_console_log() : fs::absolute(config.console_log);
  fs::create_directories(files.console_log.parent_path());
  result.console_log = files.console_log;
  write_file_atomic(files.initramfs, build_initramfs(guest_init, request_json(config, command)));

  FileDescriptor listener = listen_on(files.channel_socket);
  result.kernel_cmdline = kernel_cmdline(config);
  result.qemu_argv = qemu_argv(config, choice.accelerator, files);

  RunState state;
  SpawnOptions spawn;
  spawn.stdout_mode = Stream::null;
  ChildProcess qemu(result.qemu_argv, spawn);
  ::fcntl(qemu.stderr_fd(), F_SETFL, O_NONBLOCK);
  FileDescriptor channel;
  protocol::FrameDecoder decoder;
  ConsoleFollower console(files.console_log, config.console_sink);
  auto deadline = state.started + config.timeout;

  while (!state.qemu_exited) {
    auto now = Clock::now();
    auto until = deadline;
    if (state.command_exited) until = std::min(until, *state.command_exited + kPowerOffGrace);
    if (now >= until) {
      if (now >= deadline) result.timed_out = true;
      else result.error = "the guest did not power off within 20 s after the command ended";
      qemu.kill(SIGKILL);
      break;
    }
    if (config.stop_requested && config.stop_requested->load()) {
      result.error = "stopped on request (SIGINT or SIGTERM) before the command finished";
      qemu.kill(SIGKILL);
      break;
    }
    int wait_ms = static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count() + 1);
    if (console.active() || config.stop_requested) wait_ms = std::min(wait_ms, 200);

    pollfd fds[3] = {{channel.get() >= 0 ? channel.get() : listener.get(), POLLIN, 0},
                     {qemu.stderr_fd(), POLLIN, 0},
                     {qemu.pidfd(), POLLIN, 0}};
    if (::poll(fds, 3, wait_ms) < 0 && errno != EINTR)
      throw CommandError("poll failed while the guest ran: " + std::string{std::strerror(errno)},
                         kExitFailure);
    console.poll();

    if (fds[0].revents != 0 && channel.get() < 0) {
      channel.reset(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    } else if (fds[0].revents != 0) {
      bool open = read_available(channel.get(), [&](std::string_view bytes) {
        for (const auto& frame : decoder.feed(bytes))
          handle_frame(frame, streams, channel.get(), state, result);
      });
      if (!open || !decoder.error().empty()) channel.reset();
      if (!decoder.error().empty()) qemu.kill(SIGKILL);
    }
    if (fds[1].revents != 0 && qemu.stderr_fd() >= 0) {
      bool open = read_available(qemu.stderr_fd(), [&](std::string_view bytes) {
        if (state.qemu_stderr.size() < kMaxQemuStderr) state.qemu_stderr.append(bytes);
      });
      if (!open) qemu.close_stderr();
    }
    if (fds[2].revents != 0) {
      state.qemu_exited = true;
      // QEMU has gone, so the channel holds only what it wrote before exiting.
      if (channel.get() >= 0) {
        read_available(channel.get(), [&](std::string_view bytes) {
          for (const auto& frame : decoder.feed(bytes))
            handle_frame(frame, streams, channel.get(), state, result);
        });
      }
    }
  }
  state.qemu_status = qemu.wait();
  if (qemu.stderr_fd() >= 0) {
    read_available(qemu.stderr_fd(), [&](std::string_view bytes) {
      if (state.qemu_stderr.size() < kMaxQemuStderr) state.qemu_stderr.append(bytes);
    });
  }
  console.poll();

  if (result.error.empty())
    result.error = describe_failure(config, state, result, decoder.error());
  if (result.timed_out) result.exit_status = -1;
  return result;
}

}  // namespace nozero::vm

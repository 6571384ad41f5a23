// nozero-guest-init: PID 1 of a nozero-bench guest.
//
// The kernel starts it from the initramfs the host builds for each `vm exec`. It
// mounts the host root (9p, read-only) under an overlay with a tmpfs upper layer
// and switches to it. Then it mounts the read-write share and the kernel file
// systems and runs the requested command as the requested user. It relays the
// command's output to the host over /dev/hvc0, reports the exit status and
// powers the guest off.
//
// Built static (Debian's libc.a and libstdc++.a) so it needs nothing from the
// initramfs. Diagnostics go to /dev/console, which is the kernel console (ttyS0)
// that the host keeps as the console log.
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "vm/guest_protocol.h"

namespace {

namespace protocol = nozero::vm::protocol;
using protocol::FrameType;

struct Request {
  std::vector<std::string> argv;
  unsigned uid = 0;
  unsigned gid = 0;
  std::map<std::string, std::string> env;
  std::string cwd = "/";
  std::string share_dir;
  std::string hostname = "nozero-guest";
  std::string thp;
  // The largest 9p message the virtio transport accepts.
  unsigned msize = 512000;
};

int channel_fd = -1;

void console(const std::string& message) {
  std::string line = "nozero-guest-init: " + message + "\n";
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t written = ::write(fd, data.data(), data.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return;
    }
    data.remove_prefix(static_cast<size_t>(written));
  }
}

void send_frame(FrameType type, std::string_view payload) {
  if (channel_fd < 0) return;
  do {
    auto piece = payload.substr(0, protocol::kMaxPayload);
    write_all(channel_fd, protocol::encode_frame(type, piece));
    payload.remove_prefix(piece.size());
  } while (!payload.empty());
}

// Waits up to `timeout` for the host's ack of the exit frame, so no output is
// lost when the guest powers off.
void wait_for_ack(std::chrono::milliseconds timeout) {
  if (channel_fd < 0) return;
  protocol::FrameDecoder decoder;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  char buffer[256];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      console("no ack from the host; powering off anyway");
      return;
    }
    pollfd ready{channel_fd, POLLIN, 0};
    if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) continue;
    ssize_t got = ::read(channel_fd, buffer, sizeof buffer);
    if (got <= 0) continue;
    for (const auto& frame : decoder.feed({buffer, static_cast<size_t>(got)}))
      if (frame.type == FrameType::ack) return;
  }
}

[[noreturn]] void power_off() {
  ::sync();
  ::reboot(RB_POWER_OFF);
  console(std::string{"reboot(RB_POWER_OFF) failed: "} + std::strerror(errno));
  for (;;) ::pause();
}

// Reports a setup failure to the host and the console, then powers off.
[[noreturn]] void fail(const std::string& message) {
  console("error: " + message);
  send_frame(FrameType::failed, message);
  wait_for_ack(std::chrono::seconds{5});
  power_off();
}

std::string errno_text() { return std::strerror(errno); }

void make_dirs(const std::string& path, mode_t mode = 0755) {
  std::string prefix;
  std::istringstream parts{path};
  for (std::string part; std::getline(parts, part, '/');) {
    if (part.empty()) continue;
    prefix += "/" + part;
    if (::mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST)
      fail("mkdir " + prefix + ": " + errno_text());
  }
}

void mount_or_fail(const std::string& source, const std::string& target, const char* type,
                   unsigned long flags, const std::string& data) {
  make_dirs(target);
  if (::mount(source.c_str(), target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) !=
      0)
    fail("mount -t " + std::string{type ? type : "(move)"} + " " + source + " " + target +
         (data.empty() ? "" : " -o " + data) + ": " + errno_text());
}

// /dev/hvc0 appears when the virtio console driver has set up the port, which can
// happen shortly after init starts.
void open_channel() {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    channel_fd = ::open(protocol::kChannelDevice, O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (channel_fd >= 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  if (channel_fd < 0) fail(std::string{"cannot open "} + protocol::kChannelDevice + ": " + errno_text());
  // Raw mode: no echo, no newline translation, every byte passes unchanged.
  termios mode{};
  if (::tcgetattr(channel_fd, &mode) == 0) {
    ::cfmakeraw(&mode);
    ::tcsetattr(channel_fd, TCSANOW, &mode);
  }
}

Request read_request() {
  std::ifstream input(protocol::kRequestPath);
  if (!input) fail(std::string{"cannot read "} + protocol::kRequestPath);
  try {
    auto json = nlohmann::json::parse(input);
    Request request;
    request.argv = json.at("argv").get<std::vector<std::string>>();
    request.uid = json.at("uid").get<unsigned>();
    request.gid = json.at("gid").get<unsigned>();
    request.env = json.at("env").get<std::map<std::string, std::string>>();
    request.cwd = json.at("cwd").get<std::string>();
    request.share_dir = json.at("share_dir").get<std::string>();
    request.hostname = json.value("hostname", request.hostname);
    request.thp = json.value("thp", request.thp);
    request.msize = json.value("msize", request.msize);
    if (request.argv.empty()) fail("the request has an empty argv");
    return request;
  } catch (const nlohmann::json::exception& error) {
    fail(std::string{"invalid request: "} + error.what());
  }
}

// The kernel ignores transparent_hugepage= on guests with less than 512 MiB
// (hugepage_init() turns THP off there), so set the mode again through sysfs.
void set_thp_mode(const std::string& mode) {
  if (mode.empty()) return;
  const char* path = "/sys/kernel/mm/transparent_hugepage/enabled";
  int fd = ::open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) fail(std::string{"cannot set THP mode "} + mode + ": " + path + ": " + errno_text());
  bool written = ::write(fd, mode.data(), mode.size()) == static_cast<ssize_t>(mode.size());
  int error = errno;
  ::close(fd);
  if (!written) fail("cannot set THP mode " + mode + ": " + std::strerror(error));
}

// Host root (read-only 9p) + tmpfs upper = a writable overlay, then the switch to it.
void enter_root(const Request& request) {
  std::string ninep = "trans=virtio,version=9p2000.L,msize=" + std::to_string(request.msize);
  // The host root does not change during a run, so the guest may cache it. That
  // makes exec and library loading much faster than uncached 9p.
  mount_or_fail(protocol::kRootTag, "/lower", "9p", MS_RDONLY, ninep + ",cache=loose");
  mount_or_fail("tmpfs", "/upper", "tmpfs", 0, "mode=0755");
  make_dirs("/upper/data");
  make_dirs("/upper/work");
  mount_or_fail("overlay", "/newroot", "overlay", 0,
                "lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work");

  mount_or_fail("/dev", "/newroot/dev", nullptr, MS_MOVE, "");
  mount_or_fail("/proc", "/newroot/proc", nullptr, MS_MOVE, "");
  if (::chdir("/newroot") != 0) fail("chdir /newroot: " + errno_text());
  if (::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0) fail("move /newroot to /: " + errno_text());
  if (::chroot(".") != 0) fail("chroot: " + errno_text());
  if (::chdir("/") != 0) fail("chdir /: " + errno_text());

  mount_or_fail("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
  mount_or_fail("tracefs", "/sys/kernel/tracing", "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
  mount_or_fail("debugfs", "/sys/kernel/debug", "debugfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
  set_thp_mode(request.thp);
  mount_or_fail("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "gid=5,mode=620,ptmxmode=666");
  mount_or_fail("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");

  if (!request.share_dir.empty())
    mount_or_fail(protocol::kShareTag, request.share_dir, "9p", 0, ninep + ",cache=mmap");
}

void bring_up_loopback() {
  int sock = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return;
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock, SIOCGIFFLAGS, &request) == 0) {
    request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
    if (::ioctl(sock, SIOCSIFFLAGS, &request) != 0) console("cannot bring up lo: " + errno_text());
  }
  ::close(sock);
}

struct Account {
  std::string name;
  std::string home;
  std::string shell = "/bin/sh";
};

// The /etc/passwd entry of `uid` in the guest root (the host's own file).
Account find_account(unsigned uid) {
  Account account;
  std::ifstream passwd("/etc/passwd");
  for (std::string line; std::getline(passwd, line);) {
    std::vector<std::string> fields;
    std::istringstream parts{line};
    for (std::string field; std::getline(parts, field, ':');) fields.push_back(field);
    if (fields.size() < 7 || fields[2] != std::to_string(uid)) continue;
    account.name = fields[0];
    account.home = fields[5];
    if (!fields[6].empty()) account.shell = fields[6];
    break;
  }
  return account;
}

// PATH, HOME, USER, LOGNAME, SHELL, LANG and TERM for the user, then the request's
// own variables on top.
std::vector<std::string> build_environment(const Request& request) {
  Account account = find_account(request.uid);
  std::string home = account.home;
  struct stat info {};
  if (home.empty() || ::stat(home.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    // No usable home on the host for this uid: give it a private one.
    home = "/tmp/nozero-home-" + std::to_string(request.uid);
    make_dirs(home, 0700);
    if (::chown(home.c_str(), request.uid, request.gid) != 0)
      console("chown " + home + ": " + errno_text());
  }
  std::map<std::string, std::string> env{
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOME", home},
      {"USER", account.name.empty() ? std::to_string(request.uid) : account.name},
      {"LOGNAME", account.name.empty() ? std::to_string(request.uid) : account.name},
      {"SHELL", account.shell},
      {"LANG", "C.UTF-8"},
      {"TERM", "dumb"},
  };
  for (const auto& [name, value] : request.env) env[name] = value;
  std::vector<std::string> entries;
  for (const auto& [name, value] : env) entries.push_back(name + "=" + value);
  return entries;
}

// Child side: drop to the user, enter the working directory, exec. Failures are
// printed on the command's stderr with the shell's exit status for them.
[[noreturn]] void exec_command(const Request& request, std::vector<std::string> environment,
                               int stdout_fd, int stderr_fd) {
  auto die = [](const std::string& message, int status) {
    std::string line = "nozero-guest-init: " + message + "\n";
    write_all(STDERR_FILENO, line);
    ::_exit(status);
  };
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  ::setsid();
  int null_fd = ::open("/dev/null", O_RDONLY);
  ::dup2(null_fd, STDIN_FILENO);
  ::dup2(stdout_fd, STDOUT_FILENO);
  ::dup2(stderr_fd, STDERR_FILENO);
  ::umask(022);

  gid_t gid = request.gid;
  if (::setgroups(1, &gid) != 0) die("setgroups: " + errno_text(), 126);
  if (::setgid(request.gid) != 0) die("setgid " + std::to_string(request.gid) + ": " + errno_text(), 126);
  if (::setuid(request.uid) != 0) die("setuid " + std::to_string(request.uid) + ": " + errno_text(), 126);
  if (::chdir(request.cwd.c_str()) != 0)
    die("cannot enter the working directory " + request.cwd + ": " + errno_text(), 126);

  // execvpe searches the PATH of this process, so set the command's PATH first.
  std::vector<char*> envp;
  for (auto& entry : environment) {
    envp.push_back(entry.data());
    if (entry.starts_with("PATH=")) ::setenv("PATH", entry.c_str() + 5, 1);
  }
  envp.push_back(nullptr);
  std::vector<std::string> arguments = request.argv;
  std::vector<char*> argv;
  for (auto& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  ::execvpe(argv[0], argv.data(), envp.data());
  int exec_error = errno;
  die("cannot run " + request.argv[0] + ": " + std::strerror(exec_error),
      exec_error == ENOENT ? 127 : 126);
  ::_exit(127);  // Not reached: die() exits, but the compiler cannot see that.
}

std::string read_text(const char* path) {
  std::ifstream input(path);
  std::string text;
  std::getline(input, text);
  return text;
}

// Runs the command, relays its output as frames and returns its shell-style
// exit status. Every process left behind is killed once the command exits.
int run_command(const Request& request) {
  auto environment = build_environment(request);
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(err_pipe, O_CLOEXEC) != 0)
    fail("pipe: " + errno_text());

  sigset_t child_signal;
  sigemptyset(&child_signal);
  sigaddset(&child_signal, SIGCHLD);
  sigprocmask(SIG_BLOCK, &child_signal, nullptr);
  int signal_fd = ::signalfd(-1, &child_signal, SFD_CLOEXEC | SFD_NONBLOCK);

  pid_t child = ::fork();
  if (child < 0) fail("fork: " + errno_text());
  if (child == 0) exec_command(request, environment, out_pipe[1], err_pipe[1]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);

  utsname names{};
  ::uname(&names);
  send_frame(FrameType::started, nlohmann::json{{"release", names.release},
                                                {"cmdline", read_text("/proc/cmdline")},
                                                {"pid", child}}
                                     .dump());

  int streams[2] = {out_pipe[0], err_pipe[0]};
  const FrameType stream_types[2] = {FrameType::stdout_data, FrameType::stderr_data};
  int status = -1;
  bool child_running = true;
  char buffer[65536];
  while (streams[0] >= 0 || streams[1] >= 0 || child_running) {
    pollfd fds[3] = {{streams[0], POLLIN, 0}, {streams[1], POLLIN, 0}, {signal_fd, POLLIN, 0}};
    if (::poll(fds, 3, -1) < 0 && errno != EINTR) fail("poll: " + errno_text());
    for (int index = 0; index < 2; ++index) {
      if (streams[index] < 0 || fds[index].revents == 0) continue;
      ssize_t got = ::read(streams[index], buffer, sizeof buffer);
      if (got > 0) {
        send_frame(stream_types[index], {buffer, static_cast<size_t>(got)});
      } else if (got == 0 || errno != EINTR) {
        ::close(streams[index]);
        streams[index] = -1;
      }
    }
    if (fds[2].revents != 0) {
      signalfd_siginfo info;
      while (::read(signal_fd, &info, sizeof info) > 0) {
      }
      int wait_status = 0;
      for (pid_t reaped; (reaped = ::waitpid(-1, &wait_status, WNOHANG)) > 0;) {
        if (reaped != child) continue;
        child_running = false;
        status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
        // Background processes of the command would keep the pipes open.
        ::kill(-1, SIGKILL);
      }
    }
  }
  send_frame(FrameType::exited, nlohmann::json{{"status", status}}.dump());
  return status;
}

}  // namespace

int main() {
  if (::getpid() != 1) {
    std::fprintf(stderr,
                 "nozero-guest-init: this is the init program of nozero-bench guests; "
                 "`nozero-bench vm exec` boots it, it does not run on a host\n");
    return 2;
  }
  make_dirs("/dev");
  make_dirs("/proc");
  if (::mount("devtmpfs", "/dev", "devtmpfs", 0, nullptr) != 0 && errno != EBUSY)
    console("mount devtmpfs /dev: " + errno_text());
  if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
    console("mount proc /proc: " + errno_text());
  open_channel();

  Request request = read_request();
  enter_root(request);
  if (::sethostname(request.hostname.data(), request.hostname.size()) != 0)
    console("sethostname: " + errno_text());
  bring_up_loopback();

  run_command(request);
  wait_for_ack(std::chrono::seconds{10});
  if (!request.share_dir.empty() && ::umount(request.share_dir.c_str()) != 0)
    console("umount " + request.share_dir + ": " + errno_text());
  power_off();
}

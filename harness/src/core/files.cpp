#include "core/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "core/errors.h"

#ifndef NOZERO_SOURCE_DIR
#error "NOZERO_SOURCE_DIR must name the source tree"
#endif

namespace nozero {

std::string read_file(const std::filesystem::path& path) {
  std::ifstream input(path, std::ios::binary);
  if (!input) throw CommandError("cannot read " + path.string() + ": " + std::strerror(errno));
  std::ostringstream contents;
  contents << input.rdbuf();
  return contents.str();
}

void write_file_atomic(const std::filesystem::path& path, std::string_view contents) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  auto temporary = path;
  temporary += ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream output(temporary, std::ios::binary | std::ios::trunc);
    output.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    output.flush();
    if (!output)
      throw CommandError("cannot write " + temporary.string() + ": " + std::strerror(errno),
                         kExitFailure);
  }
  std::filesystem::rename(temporary, path);
}

FileLock::FileLock(const std::filesystem::path& path, const std::function<void()>& on_wait) {
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw CommandError("cannot open the lock file " + path.string() + ": " + std::strerror(errno),
                       kExitFailure);
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  if (errno != EWOULDBLOCK) {
    int saved = errno;
    ::close(fd_);
    throw CommandError("cannot lock " + path.string() + ": " + std::strerror(saved), kExitFailure);
  }
  if (on_wait) on_wait();
  while (::flock(fd_, LOCK_EX) < 0) {
    if (errno == EINTR) continue;
    int saved = errno;
    ::close(fd_);
    throw CommandError("cannot lock " + path.string() + ": " + std::strerror(saved), kExitFailure);
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);
}

TempDirectory::TempDirectory(std::string_view prefix) {
  std::string pattern =
      (std::filesystem::temp_directory_path() / (std::string{prefix} + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr)
    throw CommandError("cannot create a temporary directory " + pattern + ": " +
                           std::strerror(errno),
                       kExitFailure);
  path_ = pattern;
}

TempDirectory::~TempDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::filesystem::path cache_root() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return std::filesystem::path{xdg} / "nozero-bench";
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0')
    return std::filesystem::path{home} / ".cache" / "nozero-bench";
  throw CommandError(
      "cannot place the cache: neither XDG_CACHE_HOME nor HOME is set; set one or pass "
      "--cache-dir");
}

std::filesystem::path source_root() {
  const char* overridden = std::getenv("NOZERO_SOURCE_DIR");
  if (overridden != nullptr && overridden[0] != '\0') return overridden;
  return NOZERO_SOURCE_DIR;
}

std::filesystem::path executable_dir() {
  std::error_code error;
  auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return {};
  return self.parent_path();
}

std::string utc_timestamp(std::chrono::system_clock::time_point time) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm parts{};
  ::gmtime_r(&seconds, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

std::string format_duration(double seconds) {
  char text[32];
  if (seconds < 60) {
    std::snprintf(text, sizeof text, "%.1fs", seconds);
  } else {
    auto whole = static_cast<long>(std::lround(seconds));
    std::snprintf(text, sizeof text, "%ldm%02lds", whole / 60, whole % 60);
  }
  return text;
}

}  // namespace nozero

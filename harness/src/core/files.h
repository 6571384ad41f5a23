// Files and directories shared by the harness modules: reading and atomic
// writing, advisory locks, and the standard places (cache, source tree, binaries).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>

namespace nozero {

// Reads a whole file; throws CommandError naming the path if it cannot.
std::string read_file(const std::filesystem::path& path);

// Writes through a temporary file in the same directory and rename(2), so a
// reader never sees a partial file. Creates missing parent directories.
void write_file_atomic(const std::filesystem::path& path, std::string_view contents);

// An exclusive flock(2) on `path` (created if missing), held until destruction.
// The kernel drops the lock when the process dies, so a crashed holder never
// blocks later runs.
class FileLock {
 public:
  // Blocks until the lock is free. `on_wait` runs once if another process has the lock.
  explicit FileLock(const std::filesystem::path& path,
                    const std::function<void()>& on_wait = nullptr);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

// A private directory under $TMPDIR (or /tmp), removed with its contents on
// destruction.
class TempDirectory {
 public:
  explicit TempDirectory(std::string_view prefix = "nozero");
  ~TempDirectory();
  TempDirectory(const TempDirectory&) = delete;
  TempDirectory& operator=(const TempDirectory&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// ${XDG_CACHE_HOME:-$HOME/.cache}/nozero-bench. Throws CommandError if neither
// variable is set.
std::filesystem::path cache_root();

// The nozero-bench source tree this binary was built from (kernel-patches/ lives
// there). $NOZERO_SOURCE_DIR overrides it.
std::filesystem::path source_root();

// Directory of the running executable (/proc/self/exe).
std::filesystem::path executable_dir();

// "2026-12-04T19:40:22Z" for a wall-clock time.
std::string utc_timestamp(std::chrono::system_clock::time_point time);

// "2m31s" or "4.2s".
std::string format_duration(double seconds);

}  // namespace nozero

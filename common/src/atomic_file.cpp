#include "nozero/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <string>
#include <system_error>

namespace nozero {
namespace {

[[noreturn]] void throw_errno(int error, const std::string& what, const std::filesystem::path& path) {
  throw std::system_error(error, std::generic_category(), what + " " + path.string());
}

// Closes the descriptor and removes the temporary file unless released.
class TemporaryFile {
 public:
  TemporaryFile(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!renamed_) ::unlink(path_.c_str());
  }

  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }

  void close_checked() {
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw_errno(errno, "failed to close", path_);
  }
  void mark_renamed() { renamed_ = true; }

 private:
  int fd_;
  std::filesystem::path path_;
  bool renamed_ = false;
};

void write_all(int fd, std::string_view contents, const std::filesystem::path& path) {
  while (!contents.empty()) {
    ssize_t written = ::write(fd, contents.data(), contents.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_errno(errno, "failed to write", path);
    }
    contents.remove_prefix(static_cast<std::size_t>(written));
  }
}

// A name no other writer in this or another process uses at the same time.
std::filesystem::path temporary_path_for(const std::filesystem::path& path) {
  static std::atomic<unsigned> counter{0};
  std::string name = "." + path.filename().string() + ".tmp." + std::to_string(::getpid()) + "." +
                     std::to_string(counter.fetch_add(1));
  return path.parent_path() / name;
}

}  // namespace

void write_file_atomically(const std::filesystem::path& path, std::string_view contents) {
  if (path.filename().empty()) {
    throw std::system_error(std::make_error_code(std::errc::is_a_directory),
                            "cannot write a file at " + path.string());
  }
  std::filesystem::path directory = path.parent_path().empty() ? "." : path.parent_path();
  std::filesystem::path temporary = temporary_path_for(path);

  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) throw_errno(errno, "failed to create", temporary);
  TemporaryFile file(fd, temporary);

  write_all(file.fd(), contents, temporary);
  if (::fsync(file.fd()) != 0) throw_errno(errno, "failed to fsync", temporary);
  file.close_checked();

  if (::rename(temporary.c_str(), path.c_str()) != 0) throw_errno(errno, "failed to rename onto", path);
  file.mark_renamed();

  // The rename is durable only once the directory entry is on disk.
  int dir_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) throw_errno(errno, "failed to open directory", directory);
  int sync_result = ::fsync(dir_fd);
  int sync_error = errno;
  ::close(dir_fd);
  // Some file systems (9p among them) reject fsync on a directory with EINVAL; the
  // file itself is already synced, so only other errors count.
  if (sync_result != 0 && sync_error != EINVAL) throw_errno(sync_error, "failed to fsync directory", directory);
}

}  // namespace nozero

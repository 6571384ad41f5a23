// Writes the initramfs of a guest: a cpio archive in the "newc" format the kernel
// unpacks into its initial root (Documentation/driver-api/early-userspace/
// buffer-format.rst).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace nozero::vm {

class CpioWriter {
 public:
  void add_directory(std::string_view path, mode_t permissions = 0755);
  void add_file(std::string_view path, std::string_view contents, mode_t permissions = 0644);
  void add_char_device(std::string_view path, unsigned major, unsigned minor,
                       mode_t permissions = 0600);
  // Appends the trailer entry and returns the archive.
  std::string finish();

 private:
  void add_entry(std::string_view path, std::uint32_t mode, std::string_view contents,
                 unsigned rdev_major, unsigned rdev_minor);

  std::string archive_;
  std::uint32_t next_inode_ = 1;
};

// The initramfs of one `vm exec`: /init (the guest init program), /dev/console for
// its stdio, and the request JSON at protocol::kRequestPath.
std::string build_initramfs(const std::filesystem::path& guest_init, std::string_view request_json);

}  // namespace nozero::vm

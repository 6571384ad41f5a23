#include "vm/initramfs.h"

#include <sys/stat.h>

#include <cstdio>

#include "core/files.h"
#include "vm/guest_protocol.h"

namespace nozero::vm {
namespace {

void pad_to_four(std::string& archive) {
  while (archive.size() % 4 != 0) archive.push_back('\0');
}

void append_hex(std::string& archive, std::uint32_t value) {
  char field[9];
  std::snprintf(field, sizeof field, "%08X", value);
  archive.append(field, 8);
}

}  // namespace

void CpioWriter::add_entry(std::string_view path, std::uint32_t mode, std::string_view contents,
                           unsigned rdev_major, unsigned rdev_minor) {
  std::string name{path};
  while (name.starts_with('/')) name.erase(0, 1);
  archive_.append("070701");
  append_hex(archive_, next_inode_++);
  append_hex(archive_, mode);
  append_hex(archive_, 0);  // uid
  append_hex(archive_, 0);  // gid
  append_hex(archive_, S_ISDIR(mode) ? 2 : 1);
  append_hex(archive_, 0);  // mtime
  append_hex(archive_, static_cast<std::uint32_t>(contents.size()));
  append_hex(archive_, 0);  // devmajor
  append_hex(archive_, 0);  // devminor
  append_hex(archive_, rdev_major);
  append_hex(archive_, rdev_minor);
  append_hex(archive_, static_cast<std::uint32_t>(name.size() + 1));
  append_hex(archive_, 0);  // check
  archive_.append(name);
  archive_.push_back('\0');
  pad_to_four(archive_);
  archive_.append(contents);
  pad_to_four(archive_);
}

void CpioWriter::add_directory(std::string_view path, mode_t permissions) {
  add_entry(path, S_IFDIR | permissions, {}, 0, 0);
}

void CpioWriter::add_file(std::string_view path, std::string_view contents, mode_t permissions) {
  add_entry(path, S_IFREG | permissions, contents, 0, 0);
}

void CpioWriter::add_char_device(std::string_view path, unsigned major, unsigned minor,
                                 mode_t permissions) {
  add_entry(path, S_IFCHR | permissions, {}, major, minor);
}

std::string CpioWriter::finish() {
  add_entry("TRAILER!!!", 0, {}, 0, 0);
  // The kernel reads initramfs in 512-byte blocks; pad like cpio(1) does.
  while (archive_.size() % 512 != 0) archive_.push_back('\0');
  return std::move(archive_);
}

std::string build_initramfs(const std::filesystem::path& guest_init, std::string_view request_json) {
  CpioWriter writer;
  writer.add_directory("dev");
  writer.add_char_device("dev/console", 5, 1);
  writer.add_directory("proc");
  writer.add_file(protocol::kInitPath, read_file(guest_init), 0755);
  std::string request_path{protocol::kRequestPath};
  writer.add_directory(std::filesystem::path{request_path}.parent_path().string());
  writer.add_file(request_path, request_json);
  return writer.finish();
}

}  // namespace nozero::vm

// Replacing a file so that readers see either the old or the new contents, never a
// torn one, even when the writer is killed or the machine loses power.
#pragma once

#include <filesystem>
#include <string_view>

namespace nozero {

// Writes `contents` to a temporary file in the directory of `path`, fsyncs it,
// renames it over `path` and fsyncs the directory. The new file gets mode 0666 less
// the umask. Throws std::system_error naming the path on any failure, after
// removing the temporary file.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

}  // namespace nozero

// Memory facts the option checks need: the page size and MemAvailable.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nozero {

std::size_t page_size();

// MemAvailable from /proc/meminfo in bytes, or nullopt when the file or the field is
// missing (kernels before 3.14 lack it).
std::optional<std::uint64_t> mem_available_bytes(const std::string& meminfo_path = "/proc/meminfo");

// Parses the MemAvailable line of /proc/meminfo contents ("MemAvailable: 123 kB").
std::optional<std::uint64_t> parse_mem_available(std::string_view meminfo);

// Formats a byte count with a binary unit, e.g. "1.5 GiB".
std::string format_bytes(std::uint64_t bytes);

}  // namespace nozero

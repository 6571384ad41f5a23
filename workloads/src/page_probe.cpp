#include "page_probe.h"

#include <cstring>

namespace workloads {

const char* to_string(PageOrigin origin) {
  switch (origin) {
    case PageOrigin::own_marker:
      return "own_marker";
    case PageOrigin::other_process_marker:
      return "other_process_marker";
    case PageOrigin::unmarked:
      return "unmarked";
  }
  return "unmarked";
}

bool fault_and_check_reused(void* page, std::size_t page_size) {
  auto* words = static_cast<volatile std::uint64_t*>(page);
  words[0] = 1;
  std::size_t count = page_size / sizeof(std::uint64_t);
  for (std::size_t i = 1; i < count; ++i) {
    if (words[i] != 0) return true;
  }
  return false;
}

void write_marker(void* page, std::uint64_t pid, std::uint64_t iteration) {
  auto* words = static_cast<std::uint64_t*>(page);
  words[1] = kMarkerMagic;
  words[2] = pid;
  words[3] = iteration;
}

PageOrigin classify_page(const void* page, std::uint64_t own_pid) {
  const auto* words = static_cast<const std::uint64_t*>(page);
  if (words[1] != kMarkerMagic) return PageOrigin::unmarked;
  return words[2] == own_pid ? PageOrigin::own_marker : PageOrigin::other_process_marker;
}

std::vector<NonzeroWord> first_nonzero_words(const void* page, std::size_t page_size, std::size_t max_words) {
  std::vector<NonzeroWord> found;
  const auto* words = static_cast<const std::uint64_t*>(page);
  std::size_t count = page_size / sizeof(std::uint64_t);
  for (std::size_t i = 1; i < count && found.size() < max_words; ++i) {
    if (words[i] != 0) found.push_back({i * sizeof(std::uint64_t), words[i]});
  }
  return found;
}

std::vector<char*> whole_pages(void* begin, std::size_t size, std::size_t page_size) {
  auto start = reinterpret_cast<std::uintptr_t>(begin);
  std::uintptr_t first = (start + page_size - 1) / page_size * page_size;
  std::uintptr_t end = (start + size) / page_size * page_size;
  std::vector<char*> pages;
  for (std::uintptr_t page = first; page + page_size <= end; page += page_size) {
    pages.push_back(reinterpret_cast<char*>(page));
  }
  return pages;
}

}  // namespace workloads

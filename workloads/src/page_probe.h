// Inspecting freshly faulted anonymous pages: does a page still hold data from
// before, and whose? Shared by nzmmap-test, nzmalloc-test and smiffy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace workloads {

// Word 1 of a page that nzmmap-test or nzmalloc-test has used ("NZMARKER" in
// ASCII). Word 2 contains the writer's pid and word 3 its iteration.
inline constexpr std::uint64_t kMarkerMagic = 0x4e5a4d41524b4552ull;

// The writer of the data a reused page still contains.
enum class PageOrigin {
  own_marker,            // this process, an earlier iteration
  other_process_marker,  // another nzmmap-test or nzmalloc-test process
  unmarked,              // anything else: another program, or this process before the loop
};

const char* to_string(PageOrigin origin);

struct NonzeroWord {
  std::size_t offset = 0;  // bytes from the start of the page
  std::uint64_t value = 0;
};

// Writes word 0 of the page, so the page is faulted in for writing and not mapped
// to the shared zero page, then reports whether any other word is non-zero.
bool fault_and_check_reused(void* page, std::size_t page_size);

// Writes the marker into words 1 to 3.
void write_marker(void* page, std::uint64_t pid, std::uint64_t iteration);

PageOrigin classify_page(const void* page, std::uint64_t own_pid);

// The first `max_words` non-zero words of the page, skipping word 0 (which the
// scan itself wrote).
std::vector<NonzeroWord> first_nonzero_words(const void* page, std::size_t page_size, std::size_t max_words);

// Page-aligned addresses of the whole pages inside [begin, begin + size).
std::vector<char*> whole_pages(void* begin, std::size_t size, std::size_t page_size);

}  // namespace workloads

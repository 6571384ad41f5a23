// The allocation of ebizzy-nz's chunks and copy buffers: malloc, plain anonymous
// mmap, or anonymous mmap with MAP_NOZERO.
#pragma once

#include <cstddef>

#include "options.h"

namespace ebizzy {

class BufferAllocator {
 public:
  explicit BufferAllocator(Allocation allocation) : allocation_(allocation) {}

  // Returns `size` bytes, or throws std::system_error (mmap) or std::bad_alloc
  // (malloc) with the size and the options to lower.
  void* allocate(std::size_t size) const;
  void release(void* buffer, std::size_t size) const;

  Allocation allocation() const { return allocation_; }

 private:
  Allocation allocation_;
};

// The whole pages inside [begin, begin + size), which mprotect can change without
// touching a neighbouring malloc block. Empty (size 0) when the range contains no
// whole page.
struct PageRange {
  void* begin = nullptr;
  std::size_t size = 0;
};
PageRange whole_pages_within(void* begin, std::size_t size, std::size_t page_size);

// Makes the whole pages of `buffer` read-only (read_only) or writable again.
// Returns false, with errno set, when mprotect fails.
bool protect_chunk(void* buffer, std::size_t size, bool read_only);

// Writes 0xff to the first byte of every page, as ebizzy 0.3's -T does.
void touch_pages(char* buffer, std::size_t size, std::size_t page_size);

// A plain byte loop, for -l; kept from being turned back into memcpy.
void copy_bytes(void* destination, const void* source, std::size_t size);

// Searches sorted records for `key`; nullptr when it is missing.
const Record* binary_search(Record key, const Record* records, std::size_t count);
const Record* linear_search(Record key, const Record* records, std::size_t count);

}  // namespace ebizzy

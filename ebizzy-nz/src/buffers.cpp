#include "buffers.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <system_error>

#include "nozero/meminfo.h"
#include "nozero/uapi.h"

namespace ebizzy {

void* BufferAllocator::allocate(std::size_t size) const {
  if (allocation_ == Allocation::malloc) {
    void* buffer = std::malloc(size);
    if (buffer == nullptr) throw std::bad_alloc();
    return buffer;
  }
  int flags = MAP_PRIVATE | MAP_ANONYMOUS;
  if (allocation_ == Allocation::mmap_nozero) flags |= nozero::uapi::kMapNozero;
  void* buffer = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (buffer == MAP_FAILED) {
    throw std::system_error(errno, std::generic_category(),
                            "mmap of " + std::to_string(size) + " bytes failed; lower -s or -n");
  }
  return buffer;
}

void BufferAllocator::release(void* buffer, std::size_t size) const {
  if (allocation_ == Allocation::malloc) {
    std::free(buffer);
  } else {
    ::munmap(buffer, size);
  }
}

PageRange whole_pages_within(void* begin, std::size_t size, std::size_t page_size) {
  auto start = reinterpret_cast<std::uintptr_t>(begin);
  std::uintptr_t first = (start + page_size - 1) / page_size * page_size;
  std::uintptr_t end = (start + size) / page_size * page_size;
  if (end <= first) return {};
  return {reinterpret_cast<void*>(first), end - first};
}

bool protect_chunk(void* buffer, std::size_t size, bool read_only) {
  PageRange pages = whole_pages_within(buffer, size, nozero::page_size());
  if (pages.size == 0) return true;
  int protection = read_only ? PROT_READ : PROT_READ | PROT_WRITE;
  return ::mprotect(pages.begin, pages.size, protection) == 0;
}

void touch_pages(char* buffer, std::size_t size, std::size_t page_size) {
  for (std::size_t offset = 0; offset < size; offset += page_size) buffer[offset] = static_cast<char>(0xff);
}

// Without these, GCC at -O2 recognises the loop and calls memcpy, or vectorises it.
[[gnu::optimize("no-tree-loop-distribute-patterns", "no-tree-vectorize")]]
void copy_bytes(void* destination, const void* source, std::size_t size) {
  auto* to = static_cast<unsigned char*>(destination);
  const auto* from = static_cast<const unsigned char*>(source);
  for (std::size_t i = 0; i < size; ++i) to[i] = from[i];
}

namespace {

int compare_records(const void* left, const void* right) {
  Record a = *static_cast<const Record*>(left);
  Record b = *static_cast<const Record*>(right);
  return (a > b) - (a < b);
}

}  // namespace

const Record* binary_search(Record key, const Record* records, std::size_t count) {
  return static_cast<const Record*>(std::bsearch(&key, records, count, sizeof(Record), compare_records));
}

const Record* linear_search(Record key, const Record* records, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    if (records[i] == key) return &records[i];
  }
  return nullptr;
}

}  // namespace ebizzy

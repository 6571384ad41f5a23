// libnozero-calloc.so: a calloc() that clears what it returns, which nozero-exec
// preloads into the programs it runs.
//
// glibc's calloc() skips clearing memory it has just taken from brk() or mmap(),
// because the kernel hands such memory over zeroed. Under PR_SET_NOZERO the heap
// is VM_NOZERO: memory new from brk() may hold the same user's earlier data, and
// glibc's calloc() would return it as is. This calloc() takes the block from
// malloc() and clears it. Only calloc() changes: malloc(), realloc() and free()
// stay glibc's, so blocks from here are freed as any other.
#include <cerrno>
#include <cstdlib>
#include <cstring>

extern "C" __attribute__((visibility("default"))) void* calloc(std::size_t count, std::size_t size) noexcept {
  std::size_t total = 0;
  if (__builtin_mul_overflow(count, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  void* block = std::malloc(total);
  if (block != nullptr) std::memset(block, 0, total);
  return block;
}

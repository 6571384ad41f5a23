// nozero-calloc-check PAGES: fills PAGES pages of heap with data and frees them,
// so the heap shrinks. Then it callocs PAGES pages in blocks, and the heap grows
// again with every call. Each block is memory new from brk(), which glibc's
// calloc() does not clear, and which PR_SET_NOZERO may fill with the pages just
// freed. Last, it starts threads, whose stacks and descriptors come from fresh
// mmap() memory that glibc does not clear either. It prints
// "calloc nonzero=N dirty_threads=T": the pages calloc() returned that were not
// zero, and the threads whose zero-initialised data was not zero.
//
// nozero-kselftest runs it with PR_SET_NOZERO. Unlike nozero-kselftest it is
// linked dynamically, so that LD_PRELOAD (libnozero-calloc.so) applies to it.
#include <malloc.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: nozero-calloc-check PAGES\n");
    return 2;
  }
  char* end = nullptr;
  const unsigned long pages = std::strtoul(argv[1], &end, 10);
  if (*end != '\0' || pages == 0 || pages > (1ul << 20)) {
    std::fprintf(stderr, "nozero-calloc-check: PAGES must be 1 to 1048576, not '%s'\n", argv[1]);
    return 2;
  }
  constexpr std::size_t kPageSize = 4096;
  constexpr std::size_t kWordsPerPage = kPageSize / sizeof(std::uint64_t);
  constexpr std::size_t kBlockPages = 16;
  // Keep every block on the heap, and give the heap back to the kernel at free().
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TOP_PAD, 0);
  mallopt(M_TRIM_THRESHOLD, 0);

  // Fill the heap with data and free it: free() shrinks the heap with brk(), and
  // under PR_SET_NOZERO the pages go back tagged with this process's class.
  auto* dirty = static_cast<unsigned char*>(std::malloc(pages * kPageSize));
  if (dirty == nullptr) {
    std::fprintf(stderr, "nozero-calloc-check: malloc failed: %s\n", std::strerror(errno));
    return 1;
  }
  std::memset(dirty, 0xa5, pages * kPageSize);
  // Without this the compiler may drop the stores, and malloc() and free() with them.
  asm volatile("" : : "r"(dirty) : "memory");
  std::free(dirty);

  std::uint64_t nonzero = 0;
  std::vector<void*> blocks;
  for (std::size_t done = 0; done < pages; done += kBlockPages) {
    auto* words = static_cast<std::uint64_t*>(std::calloc(kBlockPages * kWordsPerPage, sizeof(std::uint64_t)));
    if (words == nullptr) {
      std::fprintf(stderr, "nozero-calloc-check: calloc failed: %s\n", std::strerror(errno));
      return 1;
    }
    for (std::size_t page = 0; page < kBlockPages; ++page) {
      for (std::size_t word = 0; word < kWordsPerPage; ++word) {
        if (words[page * kWordsPerPage + word] != 0) {
          ++nonzero;
          break;
        }
      }
    }
    blocks.push_back(words);
  }

  std::atomic<int> dirty_threads{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&dirty_threads] {
      thread_local std::uint64_t zeroed[512];
      for (std::uint64_t word : zeroed) {
        if (word != 0) {
          ++dirty_threads;
          break;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (void* block : blocks) std::free(block);
  std::printf("calloc nonzero=%llu dirty_threads=%d\n", static_cast<unsigned long long>(nonzero),
              dirty_threads.load());
  return 0;
}

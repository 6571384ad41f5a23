// nzbench-clear: how fast user space can clear memory, the physical limit that no
// clear_page implementation beats on the same CPU.
//
// Each benchmark clears one block (4 KiB or 2 MiB) per iteration with one method:
// memset, rep stosb (what the kernel's clear_page_erms runs), or non-temporal stores
// (movnti and movntdq, then sfence). "hot" clears the same block again and again, so
// the block stays in the cache. "cold" walks a 256 MiB buffer, larger than the
// last-level cache, so each clear writes to memory, as for a freshly allocated page.
#include <emmintrin.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>

#include "bench_support.h"

namespace nozero::benches {
namespace {

constexpr std::size_t kColdBufferBytes = std::size_t{256} << 20;

using ClearFunction = void (*)(char* block, std::size_t bytes);

void clear_memset(char* block, std::size_t bytes) { std::memset(block, 0, bytes); }

void clear_rep_stosb(char* block, std::size_t bytes) {
  asm volatile("rep stosb" : "+D"(block), "+c"(bytes) : "a"(0) : "memory");
}

// Eight 8-byte movnti stores per 64-byte cache line, like the kernel's
// non-temporal clear_page variants.
void clear_movnti(char* block, std::size_t bytes) {
  for (std::size_t offset = 0; offset < bytes; offset += 64) {
    auto* line = reinterpret_cast<long long*>(block + offset);
    for (int word = 0; word < 8; ++word) {
      _mm_stream_si64(line + word, 0);
    }
  }
  _mm_sfence();
}

// Four 16-byte movntdq stores per cache line.
void clear_movntdq(char* block, std::size_t bytes) {
  const __m128i zero = _mm_setzero_si128();
  for (std::size_t offset = 0; offset < bytes; offset += 64) {
    auto* line = reinterpret_cast<__m128i*>(block + offset);
    _mm_stream_si128(line, zero);
    _mm_stream_si128(line + 1, zero);
    _mm_stream_si128(line + 2, zero);
    _mm_stream_si128(line + 3, zero);
  }
  _mm_sfence();
}

// A buffer of huge pages where possible, written once so that no iteration faults.
class Buffer {
 public:
  explicit Buffer(std::size_t bytes) : bytes_(bytes) {
    void* raw = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) {
      error_ = counters::describe_errno("mmap", errno);
      return;
    }
    data_ = static_cast<char*>(raw);
    // Huge pages keep TLB misses out of the bandwidth, as the kernel's direct map
    // does for clear_page. Without THP the buffer still works with small pages.
    madvise(data_, bytes, MADV_HUGEPAGE);
    std::memset(data_, 1, bytes);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer() {
    if (data_ != nullptr) {
      munmap(data_, bytes_);
    }
  }

  char* data() const { return data_; }
  const std::string& error() const { return error_; }

 private:
  std::size_t bytes_;
  char* data_ = nullptr;
  std::string error_;
};

// Shared by every cold benchmark: Google Benchmark calls a benchmark function several
// times while it sizes the iteration count, and writing 256 MiB each time would cost
// seconds in an emulated guest.
const Buffer& cold_buffer() {
  static const Buffer buffer(kColdBufferBytes);
  return buffer;
}

void clear_blocks(benchmark::State& state, ClearFunction clear, std::size_t block_bytes, bool cold) {
  std::optional<Buffer> hot_buffer;
  if (!cold) {
    hot_buffer.emplace(block_bytes);
  }
  const Buffer& buffer = cold ? cold_buffer() : *hot_buffer;
  if (buffer.data() == nullptr) {
    state.SkipWithError(buffer.error().c_str());
    return;
  }
  const std::size_t blocks = cold ? kColdBufferBytes / block_bytes : 1;

  std::size_t next = 0;
  CountedLoop counted(state);
  for (auto _ : state) {
    char* block = buffer.data() + next * block_bytes;
    benchmark::DoNotOptimize(block);
    clear(block, block_bytes);
    benchmark::ClobberMemory();
    next = next + 1 == blocks ? 0 : next + 1;
  }
  counted.finish();
  set_page_counters(state, static_cast<double>(block_bytes / kPageSize));
}

void register_clear_benchmarks() {
  struct Method {
    const char* name;
    ClearFunction clear;
  };
  struct Block {
    const char* name;
    std::size_t bytes;
  };
  const Method methods[] = {{"memset", clear_memset},
                            {"rep_stosb", clear_rep_stosb},
                            {"movnti", clear_movnti},
                            {"movntdq", clear_movntdq}};
  const Block blocks[] = {{"4k", kPageSize}, {"2m", kHugePageSize}};

  for (const Block& block : blocks) {
    for (const Method& method : methods) {
      for (const bool cold : {false, true}) {
        const std::string name =
            std::string("clear/") + method.name + "/" + block.name + (cold ? "/cold" : "/hot");
        const ClearFunction clear = method.clear;
        const std::size_t bytes = block.bytes;
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
          clear_blocks(state, clear, bytes, cold);
        });
      }
    }
  }
}

}  // namespace
}  // namespace nozero::benches

int main(int argc, char** argv) {
  return nozero::benches::run_main(argc, argv, nozero::benches::register_clear_benchmarks);
}

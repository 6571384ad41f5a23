// The random numbers that pick chunks, copy sizes and search keys.
#pragma once

#include <cstdint>
#include <random>

namespace ebizzy {

class RecordGenerator {
 public:
  // A Mersenne Twister seeded from (seed, thread), so threads draw different
  // sequences and a run is repeatable for a given seed.
  static RecordGenerator seeded(std::uint64_t seed, std::uint64_t thread) {
    RecordGenerator generator(false);
    std::seed_seq sequence{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                           static_cast<std::uint32_t>(thread), static_cast<std::uint32_t>(thread >> 32)};
    generator.engine_.seed(sequence);
    return generator;
  }

  // ebizzy 0.3's rand_num(): "state *= 1103515245 + 12345" multiplies by the sum
  // instead of computing a linear congruence, and the state starts at 0, so every
  // call returns 0.
  static RecordGenerator original() { return RecordGenerator(true); }

  // A number in [0, limit); `limit` must be at least 1.
  std::uint64_t below(std::uint64_t limit) {
    if (original_) {
      original_state_ *= 1103515245u + 12345u;
      return (original_state_ / 65536) % limit;
    }
    return std::uniform_int_distribution<std::uint64_t>(0, limit - 1)(engine_);
  }

 private:
  explicit RecordGenerator(bool original) : original_(original) {}

  bool original_;
  unsigned int original_state_ = 0;
  std::mt19937_64 engine_;
};

}  // namespace ebizzy

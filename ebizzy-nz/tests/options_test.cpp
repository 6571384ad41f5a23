#include "options.h"

#include <gtest/gtest.h>

#include <sstream>

namespace ebizzy {
namespace {

using nozero::cli::UsageError;

constexpr std::uint64_t kPlentyOfMemory = 1ull << 40;

Options parse(std::vector<std::string> args) {
  CLI::App app;
  Options options;
  add_options(app, options);
  std::reverse(args.begin(), args.end());
  app.parse(args);
  return options;
}

std::string usage_error_of(std::vector<std::string> args, std::uint64_t mem_available = kPlentyOfMemory) {
  try {
    Options options = parse(std::move(args));
    std::ostringstream warnings;
    validate(options, mem_available, warnings);
  } catch (const UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no UsageError was thrown";
  return "";
}

TEST(Options, DefaultsMatchEbizzy03) {
  Options options = parse({});
  EXPECT_EQ(options.chunks, 10u);
  EXPECT_EQ(options.chunk_size, 64u * 1024 * sizeof(Record));
  EXPECT_DOUBLE_EQ(options.seconds, 10.0);
  EXPECT_EQ(options.threads, default_threads());
  EXPECT_EQ(options.allocation(), Allocation::malloc);
  EXPECT_FALSE(options.fixed_key);
  EXPECT_FALSE(options.json.enabled);
}

TEST(Options, SingleLetterOptions) {
  Options options = parse({"-m", "-n", "4", "-p", "-P", "-R", "-s", "4096", "-S", "2", "-t", "3", "-T", "-l",
                           "-vv", "-z"});
  EXPECT_TRUE(options.always_mmap);
  EXPECT_EQ(options.chunks, 4u);
  EXPECT_TRUE(options.alternate_permissions);
  EXPECT_TRUE(options.holes);
  EXPECT_TRUE(options.random_size);
  EXPECT_EQ(options.chunk_size, 4096u);
  EXPECT_DOUBLE_EQ(options.seconds, 2.0);
  EXPECT_EQ(options.threads, 3u);
  EXPECT_TRUE(options.touch_pages);
  EXPECT_TRUE(options.byte_copy);
  EXPECT_EQ(options.verbose, 2);
  EXPECT_TRUE(options.linear_search);
  EXPECT_EQ(options.allocation(), Allocation::mmap);
}

TEST(Options, LongNames) {
  Options options = parse({"--never-mmap", "--chunks=3", "--chunk-size=1M", "--seconds=0.5", "--threads=2",
                           "--seed=42", "--fixed-key", "--json=out.json", "--sample-interval=0.25"});
  EXPECT_TRUE(options.never_mmap);
  EXPECT_EQ(options.chunks, 3u);
  EXPECT_EQ(options.chunk_size, 1u << 20);
  EXPECT_DOUBLE_EQ(options.seconds, 0.5);
  EXPECT_EQ(options.threads, 2u);
  EXPECT_EQ(options.seed, 42u);
  EXPECT_TRUE(options.fixed_key);
  EXPECT_EQ(options.json.path, "out.json");
  EXPECT_DOUBLE_EQ(options.sample_interval_s, 0.25);
}

TEST(Options, NozeroImpliesMmapNozero) {
  EXPECT_EQ(parse({"-N"}).allocation(), Allocation::mmap_nozero);
  EXPECT_EQ(parse({"-m", "-N"}).allocation(), Allocation::mmap_nozero);
}

TEST(Options, RejectsZeroCounts) {
  EXPECT_EQ(usage_error_of({"-n", "0"}), "-n,--chunks: 0 is out of range: expected an integer from 1 to 16777216");
  EXPECT_EQ(usage_error_of({"-t", "0"}), "-t,--threads: 0 is out of range: expected an integer from 1 to 4096");
  EXPECT_NE(usage_error_of({"-S", "0"}).find("-S,--seconds: 0 is out of range"), std::string::npos);
}

TEST(Options, RejectsNegativeValues) {
  EXPECT_EQ(usage_error_of({"-t", "-2"}), "-t,--threads: -2 is out of range: expected an integer from 1 to 4096");
  EXPECT_NE(usage_error_of({"-s", "-4096"}).find("-s,--chunk-size: -4096 is out of range"), std::string::npos);
  EXPECT_NE(usage_error_of({"-S", "-1"}).find("-S,--seconds: -1 is out of range"), std::string::npos);
}

TEST(Options, RejectsChunkSmallerThanRecord) {
  std::string message = usage_error_of({"-s", "4"});
  EXPECT_NE(message.find("-s,--chunk-size: 4 is out of range"), std::string::npos) << message;
  EXPECT_NE(message.find("from 8 to"), std::string::npos) << message;
}

TEST(Options, RejectsAlwaysAndNeverMmap) {
  EXPECT_EQ(usage_error_of({"-m", "-M"}),
            "-m,--always-mmap and -M,--never-mmap cannot be combined: choose one allocation mode");
}

TEST(Options, RejectsNozeroWithNeverMmap) {
  EXPECT_NE(usage_error_of({"-N", "-M"}).find("-N,--nozero and -M,--never-mmap cannot be combined"),
            std::string::npos);
}

TEST(Options, RejectsSizeBeyondMemAvailable) {
  // 10 chunks and 2 copy buffers of 1 GiB need 12 GiB.
  std::string message = usage_error_of({"-s", "1G", "-t", "2"}, 4ull << 30);
  EXPECT_NE(message.find("-s,--chunk-size: 1073741824 needs 12.0 GiB"), std::string::npos) << message;
  EXPECT_NE(message.find("10 chunks (-n) and 2 copy buffers (-t)"), std::string::npos) << message;
  EXPECT_NE(message.find("accepted range: 8 to 357913941"), std::string::npos) << message;
}

TEST(Options, AcceptsSizeThatFits) {
  Options options = parse({"-s", "1G", "-t", "2"});
  std::ostringstream warnings;
  EXPECT_NO_THROW(validate(options, 12ull << 30, warnings));
}

TEST(Options, JsonParametersNameEveryOption) {
  nlohmann::ordered_json parameters = to_json(parse({"-N", "-t", "2"}));
  for (const char* key : {"always_mmap", "never_mmap", "chunks", "alternate_permissions", "holes", "random_size",
                          "chunk_size", "seconds", "threads", "touch_pages", "byte_copy", "verbose",
                          "linear_search", "nozero", "fixed_key", "seed", "sample_interval_s", "allocation"}) {
    EXPECT_TRUE(parameters.contains(key)) << key;
  }
  EXPECT_EQ(parameters["allocation"], "mmap-nozero");
  EXPECT_EQ(parameters["threads"], 2);
}

}  // namespace
}  // namespace ebizzy

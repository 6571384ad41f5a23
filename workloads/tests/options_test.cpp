// Option parsing of nzmmap-test, nzmalloc-test, smiffy and cc-sim.
#include <gtest/gtest.h>

#include <sstream>

#include "cc_sim.h"
#include "reuse_program.h"
#include "smiffy.h"

namespace workloads {
namespace {

using nozero::cli::UsageError;

constexpr std::uint64_t kPlentyOfMemory = 1ull << 40;

void parse(CLI::App& app, std::vector<std::string> args) {
  std::reverse(args.begin(), args.end());
  app.parse(args);
}

template <typename Action>
std::string usage_error_of(Action action) {
  try {
    action();
  } catch (const UsageError& e) {
    return e.what();
  } catch (const CLI::ParseError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no usage error was thrown";
  return "";
}

ReuseOptions parse_reuse(ReuseProgram program, std::vector<std::string> args,
                         std::uint64_t mem_available = kPlentyOfMemory) {
  CLI::App app;
  ReuseOptions options;
  add_reuse_options(app, program, options);
  parse(app, std::move(args));
  std::ostringstream warnings;
  resolve_reuse_options(program, options, mem_available, warnings);
  return options;
}

TEST(ReuseOptions, Defaults) {
  ReuseOptions options = parse_reuse(ReuseProgram::nzmalloc_test, {});
  EXPECT_EQ(options.pages, 256u);
  EXPECT_EQ(options.bound.iterations, kDefaultIterations);
  EXPECT_EQ(options.bound.seconds, 0);
  EXPECT_EQ(options.block_pages, 256u);
  EXPECT_EQ(options.malloc_mode, MallocMode::glibc_default);
}

TEST(ReuseOptions, SecondsAloneHasNoIterationLimit) {
  ReuseOptions options = parse_reuse(ReuseProgram::nzmmap_test, {"-S", "2.5", "-N", "--sleep-ms", "10"});
  EXPECT_EQ(options.bound.iterations, 0u);
  EXPECT_DOUBLE_EQ(options.bound.seconds, 2.5);
  EXPECT_EQ(options.bound.sleep_ms, 10u);
  EXPECT_TRUE(options.nozero);
}

TEST(ReuseOptions, MallocModes) {
  EXPECT_EQ(parse_reuse(ReuseProgram::nzmalloc_test, {"--malloc", "brk"}).malloc_mode, MallocMode::brk);
  EXPECT_EQ(parse_reuse(ReuseProgram::nzmalloc_test, {"--malloc=mmap"}).malloc_mode, MallocMode::mmap);
  std::string message = usage_error_of([] { parse_reuse(ReuseProgram::nzmalloc_test, {"--malloc", "sbrk"}); });
  EXPECT_EQ(message, "--malloc: \"sbrk\" is not valid: expected one of default, mmap, brk");
}

TEST(ReuseOptions, NzmmapHasNoMallocOptions) {
  CLI::App app;
  ReuseOptions options;
  add_reuse_options(app, ReuseProgram::nzmmap_test, options);
  EXPECT_THROW(parse(app, {"--malloc", "brk"}), CLI::ParseError);
}

TEST(ReuseOptions, RejectsBadCounts) {
  EXPECT_EQ(usage_error_of([] { parse_reuse(ReuseProgram::nzmmap_test, {"-p", "0"}); }),
            "-p,--pages: 0 is out of range: expected an integer from 1 to 4294967296");
  EXPECT_EQ(usage_error_of([] { parse_reuse(ReuseProgram::nzmmap_test, {"-i", "-5"}); }),
            "-i,--iterations: -5 is out of range: expected an integer from 1 to 1099511627776");
  EXPECT_NE(usage_error_of([] { parse_reuse(ReuseProgram::nzmmap_test, {"-S", "0"}); }).find("-S,--seconds: 0"),
            std::string::npos);
}

TEST(ReuseOptions, RejectsBlockLargerThanPages) {
  EXPECT_EQ(usage_error_of([] { parse_reuse(ReuseProgram::nzmalloc_test, {"-p", "4", "-b", "8"}); }),
            "-b,--block-pages: 8 is more than -p,--pages (4): accepted range: 1 to 4");
}

TEST(ReuseOptions, RejectsPagesBeyondMemory) {
  std::string message = usage_error_of([] { parse_reuse(ReuseProgram::nzmmap_test, {"-p", "1000"}, 4096 * 100); });
  EXPECT_NE(message.find("-p,--pages: 1000 needs"), std::string::npos) << message;
  EXPECT_NE(message.find("accepted range: 1 to 100"), std::string::npos) << message;
}

SmiffyOptions parse_smiffy(std::vector<std::string> args) {
  CLI::App app;
  SmiffyOptions options;
  add_smiffy_options(app, options);
  parse(app, std::move(args));
  std::ostringstream warnings;
  resolve_smiffy_options(options, app.get_option("--mapping")->count() > 0, kPlentyOfMemory, warnings);
  return options;
}

TEST(SmiffyOptions, UnboundedByDefault) {
  SmiffyOptions options = parse_smiffy({});
  EXPECT_EQ(options.bound.iterations, 0u);
  EXPECT_EQ(options.bound.seconds, 0);
  EXPECT_EQ(options.bound.sleep_ms, kSmiffyDefaultSleepMs);
  EXPECT_EQ(parse_smiffy({"-i", "3"}).bound.iterations, 3u);
}

TEST(SmiffyOptions, NozeroSelectsNozeroMappings) {
  EXPECT_EQ(parse_smiffy({}).mapping, SmiffyMapping::both);
  EXPECT_EQ(parse_smiffy({"-N"}).mapping, SmiffyMapping::nozero);
  EXPECT_EQ(parse_smiffy({"--mapping", "plain"}).mapping, SmiffyMapping::plain);
}

TEST(SmiffyOptions, RejectsNozeroWithMapping) {
  EXPECT_EQ(usage_error_of([] { parse_smiffy({"-N", "--mapping", "plain"}); }),
            "-N,--nozero and --mapping cannot be combined: -N is short for --mapping=nozero, so give one of them");
}

TEST(SmiffyOptions, RejectsZeroWords) {
  EXPECT_EQ(usage_error_of([] { parse_smiffy({"--words", "0"}); }),
            "--words: 0 is out of range: expected an integer from 1 to 512");
}

TEST(CcSimOptions, ParsesDriverOptions) {
  CLI::App app;
  ccsim::DriverOptions options;
  ccsim::UnitOptions unit;
  ccsim::add_driver_options(app, options, unit);
  parse(app, {"-j", "3", "-u", "5", "-f", "50", "--seed", "9", "-N", "-o", "/tmp/x"});
  EXPECT_EQ(options.jobs, 3u);
  EXPECT_EQ(options.units, 5u);
  EXPECT_EQ(options.functions, 50u);
  EXPECT_EQ(options.seed, 9u);
  EXPECT_TRUE(options.nozero);
  EXPECT_EQ(options.output_dir, "/tmp/x");
}

TEST(CcSimOptions, RejectsZeroJobs) {
  CLI::App app;
  ccsim::DriverOptions options;
  ccsim::UnitOptions unit;
  ccsim::add_driver_options(app, options, unit);
  EXPECT_EQ(usage_error_of([&] { parse(app, {"-j", "0"}); }),
            "-j,--jobs: 0 is out of range: expected an integer from 1 to 1024");
}

TEST(CcSimOptions, RejectsMemoryBeyondAvailable) {
  ccsim::DriverOptions options;
  options.jobs = 4;
  options.units = 8;
  options.functions = 1000;
  std::ostringstream warnings;
  std::string message = usage_error_of([&] { ccsim::validate(options, 100ull << 20, warnings); });
  EXPECT_NE(message.find("-f,--functions: 1000 needs"), std::string::npos) << message;
  EXPECT_NE(message.find("4 units at once (-j)"), std::string::npos) << message;
  EXPECT_NO_THROW(ccsim::validate(options, kPlentyOfMemory, warnings));
}

}  // namespace
}  // namespace workloads

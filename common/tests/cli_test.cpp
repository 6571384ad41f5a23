#include "nozero/cli.h"

#include <gtest/gtest.h>

#include <sstream>

namespace nozero::cli {
namespace {

// The message of the UsageError `action` throws, or a test failure.
template <typename Action>
std::string usage_error_of(Action action) {
  try {
    action();
  } catch (const UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no UsageError was thrown";
  return "";
}

TEST(ParseInteger, AcceptsRange) {
  EXPECT_EQ(parse_integer("1", "-t", 1, 8), 1);
  EXPECT_EQ(parse_integer("8", "-t", 1, 8), 8);
}

TEST(ParseInteger, RejectsZeroAndNegative) {
  EXPECT_EQ(usage_error_of([] { parse_integer("0", "-t,--threads", 1, 4096); }),
            "-t,--threads: 0 is out of range: expected an integer from 1 to 4096");
  EXPECT_EQ(usage_error_of([] { parse_integer("-3", "-t,--threads", 1, 4096); }),
            "-t,--threads: -3 is out of range: expected an integer from 1 to 4096");
}

TEST(ParseInteger, RejectsGarbage) {
  EXPECT_EQ(usage_error_of([] { parse_integer("2x", "-n", 1, 9); }),
            "-n: \"2x\" is not an integer: expected an integer from 1 to 9");
  EXPECT_NE(usage_error_of([] { parse_integer("", "-n", 1, 9); }).find("is not an integer"), std::string::npos);
  EXPECT_NE(usage_error_of([] { parse_integer("99999999999999999999", "-n", 1, 9); }).find("out of range"),
            std::string::npos);
}

TEST(ParseSize, AcceptsBinarySuffixes) {
  EXPECT_EQ(parse_size("4096", "-s", 1, 1ull << 50), 4096u);
  EXPECT_EQ(parse_size("512K", "-s", 1, 1ull << 50), 512u << 10);
  EXPECT_EQ(parse_size("3m", "-s", 1, 1ull << 50), 3u << 20);
  EXPECT_EQ(parse_size("2GiB", "-s", 1, 1ull << 50), 2ull << 30);
  EXPECT_EQ(parse_size("1TB", "-s", 1, 1ull << 50), 1ull << 40);
}

TEST(ParseSize, RejectsBadSizes) {
  EXPECT_NE(usage_error_of([] { parse_size("0", "-s,--chunk-size", 8, 1024); }).find("-s,--chunk-size: 0 is out of range"),
            std::string::npos);
  EXPECT_NE(usage_error_of([] { parse_size("-8", "-s", 8, 1024); }).find("out of range"), std::string::npos);
  EXPECT_NE(usage_error_of([] { parse_size("2X", "-s", 8, 1024); }).find("is not a size"), std::string::npos);
  EXPECT_NE(usage_error_of([] { parse_size("K", "-s", 8, 1024); }).find("is not a size"), std::string::npos);
  EXPECT_NE(usage_error_of([] { parse_size("20000000T", "-s", 8, 1024); }).find("out of range"), std::string::npos);
  std::string message = usage_error_of([] { parse_size("2K", "-s", 8, 1024); });
  EXPECT_NE(message.find("from 8 to 1024"), std::string::npos) << message;
}

TEST(ParseSeconds, AcceptsFractions) {
  EXPECT_DOUBLE_EQ(parse_seconds("2.5", "-S", 0.01, 100), 2.5);
  EXPECT_NE(usage_error_of([] { parse_seconds("0", "-S,--seconds", 0.01, 100); }).find("-S,--seconds: 0 is out of range"),
            std::string::npos);
  EXPECT_NE(usage_error_of([] { parse_seconds("nan", "-S", 0.01, 100); }).find("is not a number"), std::string::npos);
  EXPECT_NE(usage_error_of([] { parse_seconds("1s", "-S", 0.01, 100); }).find("is not a number"), std::string::npos);
}

// Parses `args` (without the program name) into an App set up by `setup`.
template <typename Setup>
void parse_with(Setup setup, std::vector<std::string> args) {
  CLI::App app;
  setup(app);
  std::reverse(args.begin(), args.end());  // CLI11 takes a reversed vector
  app.parse(args);
}

TEST(Options, CountOptionStoresValue) {
  std::uint64_t threads = 2;
  parse_with([&](CLI::App& app) { add_count_option(app, "-t,--threads", threads, 1, 64, "threads"); },
             {"--threads", "7"});
  EXPECT_EQ(threads, 7u);
}

TEST(Options, CountOptionRejectsNegative) {
  std::uint64_t threads = 2;
  std::string message = usage_error_of([&] {
    parse_with([&](CLI::App& app) { add_count_option(app, "-t,--threads", threads, 1, 64, "threads"); },
               {"-t", "-1"});
  });
  EXPECT_EQ(message, "-t,--threads: -1 is out of range: expected an integer from 1 to 64");
}

TEST(Options, SizeAndSecondsOptions) {
  std::uint64_t size = 0;
  double seconds = 1;
  parse_with(
      [&](CLI::App& app) {
        add_size_option(app, "-s", size, 8, 1ull << 40, "size");
        add_seconds_option(app, "-S", seconds, 0.01, 60, "seconds");
      },
      {"-s", "64K", "-S", "0.25"});
  EXPECT_EQ(size, 65536u);
  EXPECT_DOUBLE_EQ(seconds, 0.25);
}

TEST(Options, JsonBareGoesToStdout) {
  JsonDestination json;
  parse_with([&](CLI::App& app) { add_json_option(app, json); }, {"--json"});
  EXPECT_TRUE(json.enabled);
  EXPECT_TRUE(json.to_stdout());
}

TEST(Options, JsonWithFile) {
  JsonDestination json;
  parse_with([&](CLI::App& app) { add_json_option(app, json); }, {"--json=out.json"});
  EXPECT_TRUE(json.enabled);
  EXPECT_FALSE(json.to_stdout());
  EXPECT_EQ(json.path, "out.json");
}

TEST(Options, JsonAbsentIsDisabled) {
  JsonDestination json;
  parse_with([&](CLI::App& app) { add_json_option(app, json); }, {});
  EXPECT_FALSE(json.enabled);
  EXPECT_FALSE(json.to_stdout());
}

TEST(Options, JsonDoesNotTakeNextArgument) {
  JsonDestination json;
  std::vector<std::string> rest;
  parse_with(
      [&](CLI::App& app) {
        add_json_option(app, json);
        app.add_option("rest", rest);
      },
      {"--json", "file.json"});
  EXPECT_TRUE(json.to_stdout());
  EXPECT_EQ(rest, std::vector<std::string>{"file.json"});
}

TEST(Options, JsonDestinationDirectoryMustExist) {
  EXPECT_NO_THROW(validate_json_destination(JsonDestination{true, "-"}));
  EXPECT_NO_THROW(validate_json_destination(JsonDestination{false, "/nonexistent/x.json"}));
  EXPECT_NO_THROW(validate_json_destination(JsonDestination{true, "relative.json"}));
  EXPECT_EQ(usage_error_of([] { validate_json_destination(JsonDestination{true, "/nonexistent/x.json"}); }),
            "--json: directory /nonexistent of /nonexistent/x.json does not exist: create it or choose another FILE");
}

enum class Color { red, green };

TEST(Options, ChoiceOptionMapsName) {
  Color color = Color::red;
  parse_with([&](CLI::App& app) { add_choice_option(app, "--color", color, {{"red", Color::red}, {"green", Color::green}}, "c"); },
             {"--color", "green"});
  EXPECT_EQ(color, Color::green);
}

TEST(Options, ChoiceOptionListsNames) {
  Color color = Color::red;
  std::string message = usage_error_of([&] {
    parse_with([&](CLI::App& app) { add_choice_option(app, "--color", color, {{"red", Color::red}, {"green", Color::green}}, "c"); },
               {"--color", "blue"});
  });
  EXPECT_EQ(message, "--color: \"blue\" is not valid: expected one of red, green");
}

TEST(Combination, RejectsBoth) {
  EXPECT_NO_THROW(reject_combination(true, "-m", false, "-M", "choose one"));
  EXPECT_EQ(usage_error_of([] { reject_combination(true, "-m,--always-mmap", true, "-M,--never-mmap", "choose one"); }),
            "-m,--always-mmap and -M,--never-mmap cannot be combined: choose one");
}

TEST(RequireMemory, AcceptsWhatFits) {
  std::ostringstream warnings;
  MemoryRequest request{"-s", 1024, 8, 12, "12 buffers"};
  EXPECT_NO_THROW(require_memory(request, 12 * 1024, warnings));
  EXPECT_EQ(warnings.str(), "");
}

TEST(RequireMemory, NamesOptionAndRange) {
  std::ostringstream warnings;
  MemoryRequest request{"-s,--chunk-size", 1ull << 40, 8, 12, "10 chunks and 2 copy buffers of this size"};
  std::string message = usage_error_of([&] { require_memory(request, 12ull << 30, warnings); });
  EXPECT_NE(message.find("-s,--chunk-size: 1099511627776 needs 12.0 TiB"), std::string::npos) << message;
  EXPECT_NE(message.find("MemAvailable (12.0 GiB)"), std::string::npos) << message;
  EXPECT_NE(message.find("accepted range: 8 to 1073741824"), std::string::npos) << message;
}

TEST(RequireMemory, HandlesOverflow) {
  std::ostringstream warnings;
  MemoryRequest request{"-p", ~0ull / 2, 1, 4096, "pages"};
  std::string message = usage_error_of([&] { require_memory(request, 1ull << 30, warnings); });
  EXPECT_NE(message.find("more than 16 EiB"), std::string::npos) << message;
}

TEST(RequireMemory, WarnsWithoutMemAvailable) {
  std::ostringstream warnings;
  require_memory(MemoryRequest{"-p", 1, 1, 1, "pages"}, std::nullopt, warnings);
  EXPECT_NE(warnings.str().find("no MemAvailable"), std::string::npos);
}

}  // namespace
}  // namespace nozero::cli

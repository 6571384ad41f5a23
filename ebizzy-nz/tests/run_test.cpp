// Runs the built ebizzy-nz and checks its output and its exit statuses.
#include <gtest/gtest.h>

#include "testing/run_program.h"
#include "testing/workload_schema.h"

namespace {

using nozero::testing::parse_document;
using nozero::testing::ProgramOutput;
using nozero::testing::run_program;

ProgramOutput run_ebizzy(std::vector<std::string> args) {
  args.insert(args.begin(), EBIZZY_NZ_PATH);
  return run_program(args);
}

struct Mode {
  std::string name;
  std::vector<std::string> args;
};

// Names the case in CTest's test names.
void PrintTo(const Mode& mode, std::ostream* out) { *out << mode.name; }

// Short runs of each mode, checked against the schema and for sane values.
class EbizzyModes : public ::testing::TestWithParam<Mode> {};

TEST_P(EbizzyModes, WritesValidJson) {
  std::vector<std::string> args{"-t", "2", "-n", "4", "-s", "64K", "-S", "0.5", "--sample-interval=0.25", "--json"};
  for (const std::string& arg : GetParam().args) args.push_back(arg);
  ProgramOutput output = run_ebizzy(args);
  ASSERT_EQ(output.exit_status, 0) << output.err;

  nlohmann::json document = parse_document(output.out);
  nozero::testing::expect_workload_document(document, "ebizzy-nz");
  EXPECT_GT(nozero::testing::metric_value(document, "records_per_s"), 0);
  EXPECT_GT(nozero::testing::metric_value(document, "records"), 0);
  EXPECT_GE(nozero::testing::metric_value(document, "elapsed_s"), 0.5);
  EXPECT_EQ(document["metrics"]["records_per_s"]["better"], "higher");
  EXPECT_GE(document["samples"]["records_per_s"].size(), 2u);
  EXPECT_EQ(document["threads"]["records"].size(), 2u);
  EXPECT_TRUE(document["search"]["missed_key"].is_null());
  EXPECT_EQ(document["parameters"]["threads"], 2);
  EXPECT_EQ(document["parameters"]["chunk_size"], 65536);
  // With the document on stdout, the ebizzy summary goes to stderr.
  EXPECT_NE(output.err.find(" records/s\n"), std::string::npos) << output.err;
}

INSTANTIATE_TEST_SUITE_P(Modes, EbizzyModes,
                         ::testing::Values(Mode{"Default", {}}, Mode{"AlwaysMmap", {"-m"}}, Mode{"NeverMmap", {"-M"}},
                                           Mode{"Nozero", {"-N"}}, Mode{"FixedKeyRandomSize", {"--fixed-key", "-R"}},
                                           Mode{"NoMerging", {"-m", "-p", "-P", "-z", "-l"}}));

TEST(EbizzyRun, NozeroRecordsRequestAndSupport) {
  ProgramOutput output = run_ebizzy({"-N", "-t", "1", "-n", "1", "-s", "8K", "-S", "0.1", "--json"});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  nlohmann::json document = parse_document(output.out);
  EXPECT_EQ(document["nozero"]["requested"], true);
  EXPECT_EQ(document["parameters"]["allocation"], "mmap-nozero");
  if (document["nozero"]["kernel_support"] != "supported") {
    EXPECT_NE(output.err.find("warning: MAP_NOZERO was requested"), std::string::npos) << output.err;
  }
}

TEST(EbizzyRun, PlainRunRecordsNoRequest) {
  ProgramOutput output = run_ebizzy({"-t", "1", "-n", "1", "-s", "8K", "-S", "0.1", "--json"});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  nlohmann::json document = parse_document(output.out);
  EXPECT_EQ(document["nozero"]["requested"], false);
  EXPECT_EQ(output.err.find("warning"), std::string::npos) << output.err;
}

TEST(EbizzyRun, SummaryOnStdoutWithoutJson) {
  ProgramOutput output = run_ebizzy({"-t", "1", "-n", "1", "-s", "8K", "-S", "0.1"});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  EXPECT_NE(output.out.find(" records/s\nreal "), std::string::npos) << output.out;
  EXPECT_NE(output.out.find("\nsys  "), std::string::npos) << output.out;
}

TEST(EbizzyRun, JsonToFile) {
  nozero::testing::TemporaryDirectory dir;
  std::string path = dir.path() + "/ebizzy.json";
  ProgramOutput output = run_ebizzy({"-t", "1", "-n", "1", "-s", "8K", "-S", "0.1", "--json=" + path});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  EXPECT_NE(output.out.find(" records/s"), std::string::npos);
  nozero::testing::expect_workload_document(parse_document(nozero::testing::read_text_file(path)), "ebizzy-nz");
}

TEST(EbizzyRun, HelpListsOptions) {
  ProgramOutput output = run_ebizzy({"--help"});
  EXPECT_EQ(output.exit_status, 0);
  for (const char* option : {"-m,--always-mmap", "-M,--never-mmap", "-n,--chunks", "-p,--alternate-permissions",
                             "-P,--holes", "-R,--random-size", "-s,--chunk-size", "-S,--seconds", "-t,--threads",
                             "-T,--touch-pages", "-l,--byte-copy", "-v,--verbose", "-z,--linear-search",
                             "-N,--nozero", "--fixed-key", "--seed", "--json [=FILE]"}) {
    EXPECT_NE(output.out.find(option), std::string::npos) << option;
  }
}

struct BadInput {
  std::string name;
  std::vector<std::string> args;
  std::string message;
};

void PrintTo(const BadInput& input, std::ostream* out) { *out << input.name; }

class EbizzyBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(EbizzyBadInput, ExitsTwoWithMessage) {
  ProgramOutput output = run_ebizzy(GetParam().args);
  EXPECT_EQ(output.exit_status, 2) << output.err;
  EXPECT_NE(output.err.find("ebizzy-nz: error: " + GetParam().message), std::string::npos) << output.err;
  EXPECT_EQ(output.out, "");
}

INSTANTIATE_TEST_SUITE_P(
    Cases, EbizzyBadInput,
    ::testing::Values(
        BadInput{"ZeroThreads", {"-t", "0"}, "-t,--threads: 0 is out of range: expected an integer from 1 to 4096"},
        BadInput{"NegativeThreads", {"-t", "-1"}, "-t,--threads: -1 is out of range: expected an integer from 1 to 4096"},
        BadInput{"ZeroChunks", {"-n", "0"}, "-n,--chunks: 0 is out of range: expected an integer from 1 to"},
        BadInput{"TextChunks", {"-n", "ten"}, "-n,--chunks: \"ten\" is not an integer"},
        BadInput{"ZeroChunkSize", {"-s", "0"}, "-s,--chunk-size: 0 is out of range: expected a size in bytes from 8 to"},
        BadInput{"NegativeChunkSize", {"-s", "-512K"}, "-s,--chunk-size: -512K is out of range"},
        BadInput{"ZeroSeconds", {"-S", "0"}, "-S,--seconds: 0 is out of range"},
        BadInput{"NegativeSeconds", {"-S", "-3"}, "-S,--seconds: -3 is out of range"},
        BadInput{"AlwaysAndNeverMmap", {"-m", "-M"}, "-m,--always-mmap and -M,--never-mmap cannot be combined"},
        BadInput{"NozeroAndNeverMmap", {"-N", "-M"}, "-N,--nozero and -M,--never-mmap cannot be combined"},
        BadInput{"ChunkSizeBeyondMemory", {"-s", "1T", "-S", "1"}, "-s,--chunk-size: 1099511627776 needs"},
        BadInput{"JsonInMissingDirectory", {"-S", "1", "--json=/nonexistent/e.json"}, "--json: directory /nonexistent"},
        BadInput{"UnknownOption", {"--no-such-option"}, "The following argument was not expected: --no-such-option"}));

TEST(EbizzyRun, MemoryErrorNamesRange) {
  ProgramOutput output = run_ebizzy({"-s", "1T", "-n", "10", "-t", "2"});
  EXPECT_EQ(output.exit_status, 2);
  EXPECT_NE(output.err.find("more than MemAvailable"), std::string::npos) << output.err;
  EXPECT_NE(output.err.find("accepted range: 8 to "), std::string::npos) << output.err;
}

}  // namespace

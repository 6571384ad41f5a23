// Runs the built workload programs and checks their documents, output and exit statuses.
#include <gtest/gtest.h>

#include <dlfcn.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <csignal>
#include <filesystem>

#include "nozero/nozero_support.h"
#include "nozero_exec.h"
#include "testing/run_program.h"
#include "testing/workload_schema.h"

namespace {

using nozero::testing::expect_workload_document;
using nozero::testing::metric_value;
using nozero::testing::parse_document;
using nozero::testing::ProgramOutput;
using nozero::testing::run_program;

ProgramOutput run(const char* program, std::vector<std::string> args) {
  args.insert(args.begin(), program);
  return run_program(args);
}

bool kernel_has_series() {
  return nozero::detect_nozero_support().support != nozero::KernelSupport::not_supported;
}

// ---- nzmmap-test and nzmalloc-test --------------------------------------------

TEST(NzmmapTest, WritesValidJson) {
  ProgramOutput output = run(NZMMAP_TEST_PATH, {"-p", "64", "-i", "5", "--json"});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  nlohmann::json document = parse_document(output.out);
  expect_workload_document(document, "nzmmap-test");
  EXPECT_EQ(metric_value(document, "pages_scanned"), 320);
  EXPECT_EQ(metric_value(document, "iterations"), 5);
  EXPECT_GE(metric_value(document, "reused_rate"), 0);
  EXPECT_LE(metric_value(document, "reused_rate"), 1);
  EXPECT_EQ(document["samples"]["reused_pages"].size(), 5u);
  EXPECT_EQ(document["samples"]["iteration_s"].size(), 5u);
  EXPECT_GE(document["page_faults"]["minor"].get<long>(), 320);
  EXPECT_TRUE(document["reuse"].contains("own_marker"));
  EXPECT_EQ(document["parameters"]["pages"], 64);
  EXPECT_EQ(document["nozero"]["requested"], false);
  EXPECT_NE(output.err.find("5 iterations, 320 pages scanned"), std::string::npos) << output.err;
}

TEST(NzmmapTest, NozeroOnUnpatchedKernelReusesNothing) {
  ProgramOutput output = run(NZMMAP_TEST_PATH, {"-N", "-p", "64", "-i", "5", "--json"});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  nlohmann::json document = parse_document(output.out);
  EXPECT_EQ(document["nozero"]["requested"], true);
  if (!kernel_has_series()) {
    EXPECT_EQ(document["nozero"]["kernel_support"], "not-supported");
    EXPECT_EQ(metric_value(document, "reused_pages"), 0);
    EXPECT_NE(output.err.find("nzmmap-test: warning: MAP_NOZERO was requested"), std::string::npos) << output.err;
  }
}

TEST(NzmmapTest, SecondsBound) {
  ProgramOutput output = run(NZMMAP_TEST_PATH, {"-p", "16", "-S", "0.2", "--sleep-ms", "20", "--json"});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  nlohmann::json document = parse_document(output.out);
  EXPECT_GE(metric_value(document, "elapsed_s"), 0.2);
  EXPECT_TRUE(document["parameters"]["bound"]["iterations"].is_null());
  EXPECT_DOUBLE_EQ(document["parameters"]["bound"]["seconds"].get<double>(), 0.2);
}

TEST(NzmallocTest, GlibcReusesItsOwnBlocks) {
  // With glibc's defaults the freed block stays in the process, so every page
  // after the first iterations still holds this process's marker.
  ProgramOutput output = run(NZMALLOC_TEST_PATH, {"-p", "64", "-i", "10", "--json"});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  nlohmann::json document = parse_document(output.out);
  expect_workload_document(document, "nzmalloc-test");
  EXPECT_GT(metric_value(document, "reused_rate"), 0.5);
  EXPECT_GT(document["reuse"]["own_marker"].get<long>(), 0);
  EXPECT_EQ(document["parameters"]["malloc"], "default");
}

TEST(NzmallocTest, MmapModeGetsZeroedPages) {
  ProgramOutput output = run(NZMALLOC_TEST_PATH, {"-p", "64", "-b", "16", "-i", "10", "--malloc=mmap", "--json"});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  nlohmann::json document = parse_document(output.out);
  EXPECT_EQ(document["parameters"]["block_pages"], 16);
  if (!kernel_has_series()) {
    EXPECT_EQ(metric_value(document, "reused_pages"), 0);
  }
  EXPECT_GE(document["page_faults"]["minor"].get<long>(), 10 * 60);
}

TEST(NzmallocTest, BrkModeWithNozero) {
  ProgramOutput output = run(NZMALLOC_TEST_PATH, {"-N", "-p", "64", "-i", "10", "--malloc=brk", "--json"});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  nlohmann::json document = parse_document(output.out);
  EXPECT_EQ(document["nozero"]["requested"], true);
  EXPECT_EQ(document["parameters"]["malloc"], "brk");
  if (!kernel_has_series()) {
    // free() trims the heap but glibc keeps the page at the start of the top
    // chunk, so at most one page per iteration comes back with old contents.
    EXPECT_LE(metric_value(document, "reused_pages"), 10);
  }
}

// ---- smiffy --------------------------------------------------------------------

TEST(Smiffy, CleanKernelExitsZero) {
  ProgramOutput output = run(SMIFFY_PATH, {"-p", "64", "-i", "5", "--sleep-ms", "0", "--json"});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  nlohmann::json document = parse_document(output.out);
  expect_workload_document(document, "smiffy");
  EXPECT_EQ(metric_value(document, "pages_scanned"), 5 * 2 * 64);
  EXPECT_EQ(metric_value(document, "nonzero_pages"), 0);
  EXPECT_EQ(document["leaks"]["pages_scanned"], 640);
  EXPECT_EQ(document["leaks"]["reported"].size(), 0u);
  EXPECT_TRUE(document["leaks"]["uid"].is_number_integer());
  EXPECT_EQ(document["nozero"]["requested"], true);
  EXPECT_EQ(document["parameters"]["mapping"], "both");
  EXPECT_EQ(document["leaks"]["stopped_by"], "bound");
}

TEST(Smiffy, SigintEndsUnboundedScan) {
  // The harness runs smiffy without a bound beside a workload and stops it with SIGINT.
  ProgramOutput output = nozero::testing::run_program_and_signal({SMIFFY_PATH, "-p", "16", "--json"},
                                                                 std::chrono::milliseconds(500), SIGINT);
  ASSERT_EQ(output.exit_status, 0) << output.err;
  nlohmann::json document = parse_document(output.out);
  expect_workload_document(document, "smiffy");
  EXPECT_EQ(document["leaks"]["stopped_by"], "signal");
  EXPECT_GE(metric_value(document, "iterations"), 1);
  EXPECT_TRUE(document["parameters"]["bound"]["iterations"].is_null());
  EXPECT_EQ(document["parameters"]["bound"]["sleep_ms"], 100);
}

TEST(Smiffy, SigtermEndsScan) {
  ProgramOutput output = nozero::testing::run_program_and_signal({SMIFFY_PATH, "-p", "16", "-S", "60", "--json"},
                                                                 std::chrono::milliseconds(300), SIGTERM);
  ASSERT_EQ(output.exit_status, 0) << output.err;
  EXPECT_EQ(parse_document(output.out)["leaks"]["stopped_by"], "signal");
}

TEST(Smiffy, PlainMappingDoesNotRequestNozero) {
  ProgramOutput output = run(SMIFFY_PATH, {"--mapping=plain", "-p", "8", "-i", "2", "--json"});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  nlohmann::json document = parse_document(output.out);
  EXPECT_EQ(document["nozero"]["requested"], false);
  EXPECT_EQ(metric_value(document, "pages_scanned"), 16);
  EXPECT_EQ(output.err.find("warning"), std::string::npos) << output.err;
}

// ---- cc-sim --------------------------------------------------------------------

TEST(CcSim, WritesValidJson) {
  ProgramOutput output = run(CC_SIM_PATH, {"-j", "2", "-u", "4", "-f", "30", "--json"});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  nlohmann::json document = parse_document(output.out);
  expect_workload_document(document, "cc-sim");
  EXPECT_GT(metric_value(document, "wall_s"), 0);
  EXPECT_GT(metric_value(document, "units_per_s"), 0);
  EXPECT_GT(metric_value(document, "minflt_per_unit"), 0);
  ASSERT_EQ(document["processes"].size(), 4u);
  for (const auto& process : document["processes"]) {
    EXPECT_EQ(process["exit_status"], 0);
    EXPECT_GT(process["output_bytes"].get<long>(), 0);
    EXPECT_GT(process["minflt"].get<long>(), 0);
  }
  EXPECT_EQ(document["samples"]["unit_wall_s"].size(), 4u);
  EXPECT_EQ(document["rusage_scope"], "child processes (the compile units)");
  // The default output directory is temporary.
  EXPECT_FALSE(std::filesystem::exists(document["output"]["directory"].get<std::string>()));
}

TEST(CcSim, OutputDependsOnlyOnSeed) {
  auto checksum = [](const std::string& seed, const std::string& jobs) {
    ProgramOutput output = run(CC_SIM_PATH, {"-j", jobs, "-u", "3", "-f", "20", "--seed", seed, "--json"});
    EXPECT_EQ(output.exit_status, 0) << output.err;
    return parse_document(output.out)["output"]["fnv1a64"].get<std::string>();
  };
  std::string first = checksum("7", "1");
  EXPECT_EQ(checksum("7", "3"), first);
  EXPECT_NE(checksum("8", "1"), first);
}

TEST(CcSim, KeepsOutputDirectory) {
  nozero::testing::TemporaryDirectory dir;
  std::string out_dir = dir.path() + "/units";
  ProgramOutput output = run(CC_SIM_PATH, {"-u", "2", "-f", "10", "-o", out_dir});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  EXPECT_TRUE(std::filesystem::exists(out_dir + "/unit-00000.s"));
  EXPECT_TRUE(std::filesystem::exists(out_dir + "/unit-00001.s"));
  EXPECT_NE(output.out.find("2 units, 2 at a time"), std::string::npos) << output.out;
}

TEST(CcSim, NozeroRunsUnits) {
  ProgramOutput output = run(CC_SIM_PATH, {"-N", "-u", "2", "-f", "10", "--json"});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  nlohmann::json document = parse_document(output.out);
  EXPECT_EQ(document["nozero"]["requested"], true);
  EXPECT_EQ(document["output"]["failed_units"], 0);
  if (!kernel_has_series()) {
    EXPECT_NE(output.err.find("cc-sim: warning:"), std::string::npos) << output.err;
  }
}

TEST(CcSim, CompileUnitNeedsOutput) {
  ProgramOutput output = run(CC_SIM_PATH, {"--compile-unit", "0"});
  EXPECT_EQ(output.exit_status, 2);
  EXPECT_NE(output.err.find("--compile-unit needs --output FILE"), std::string::npos) << output.err;
}

// ---- nozero-exec ---------------------------------------------------------------

TEST(NozeroExec, RunsCommandWithItsStatus) {
  ProgramOutput output = run(NOZERO_EXEC_PATH, {"--", "/bin/sh", "-c", "echo ran; exit 3"});
  EXPECT_EQ(output.exit_status, 3);
  EXPECT_EQ(output.out, "ran\n");
  if (!kernel_has_series()) {
    EXPECT_NE(output.err.find("nozero-exec: warning: MAP_NOZERO was requested, but the kernel does not support it"),
              std::string::npos)
        << output.err;
    EXPECT_NE(output.err.find("running /bin/sh anyway"), std::string::npos) << output.err;
  }
}

// The calloc() nozero-exec preloads: its own symbol, clearing what malloc()
// returns, and failing on overflow as calloc() must.
TEST(NozeroCalloc, ClearsAndChecksOverflow) {
  void* library = ::dlopen(NOZERO_CALLOC_PATH, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(library, nullptr) << ::dlerror();
  using Calloc = void* (*)(std::size_t, std::size_t);
  auto own_calloc = reinterpret_cast<Calloc>(::dlsym(library, "calloc"));
  ASSERT_NE(own_calloc, nullptr) << ::dlerror();
  EXPECT_NE(reinterpret_cast<void*>(own_calloc), reinterpret_cast<void*>(&std::calloc));
  Dl_info where{};
  ASSERT_NE(::dladdr(reinterpret_cast<void*>(own_calloc), &where), 0);
  EXPECT_NE(std::string{where.dli_fname}.find("libnozero-calloc.so"), std::string::npos) << where.dli_fname;

  // Dirty a block, free it, and ask for one of the same size: malloc() is likely
  // to return the same memory, which calloc() must clear.
  constexpr std::size_t kBytes = 3000;
  auto* dirty = static_cast<unsigned char*>(std::malloc(kBytes));
  ASSERT_NE(dirty, nullptr);
  std::memset(dirty, 0xa5, kBytes);
  std::free(dirty);
  auto* block = static_cast<unsigned char*>(own_calloc(1000, 3));
  ASSERT_NE(block, nullptr);
  for (std::size_t i = 0; i < kBytes; ++i) ASSERT_EQ(block[i], 0) << "byte " << i;
  std::free(block);

  errno = 0;
  EXPECT_EQ(own_calloc(SIZE_MAX / 2, 3), nullptr);
  EXPECT_EQ(errno, ENOMEM);
  ::dlclose(library);
}

TEST(NozeroExec, PreloadGoesFirst) {
  EXPECT_EQ(nozero_exec::preload_value("/b/libnozero-calloc.so", nullptr), "/b/libnozero-calloc.so");
  EXPECT_EQ(nozero_exec::preload_value("/b/libnozero-calloc.so", ""), "/b/libnozero-calloc.so");
  EXPECT_EQ(nozero_exec::preload_value("/b/libnozero-calloc.so", "/x/liby.so"), "/b/libnozero-calloc.so:/x/liby.so");
}

TEST(NozeroExec, CommandOptionsPassThrough) {
  ProgramOutput output = run(NOZERO_EXEC_PATH, {"/bin/sh", "-c", "echo \"$0\" --json", "--help"});
  EXPECT_EQ(output.exit_status, 0) << output.err;
  EXPECT_EQ(output.out, "--help --json\n");
}

TEST(NozeroExec, SearchesPath) {
  ProgramOutput output = run(NOZERO_EXEC_PATH, {"true"});
  EXPECT_EQ(output.exit_status, 0) << output.err;
}

TEST(NozeroExec, MissingCommandExits127) {
  ProgramOutput output = run(NOZERO_EXEC_PATH, {"/nonexistent/program"});
  EXPECT_EQ(output.exit_status, 127);
  EXPECT_NE(output.err.find("cannot run /nonexistent/program: No such file or directory"), std::string::npos)
      << output.err;
}

TEST(NozeroExec, NoCommandIsUsageError) {
  ProgramOutput output = run(NOZERO_EXEC_PATH, {});
  EXPECT_EQ(output.exit_status, 2);
  EXPECT_NE(output.err.find("nozero-exec: error: missing CMD"), std::string::npos) << output.err;
}

TEST(NozeroExec, JsonReportsCommand) {
  ProgramOutput output = run(NOZERO_EXEC_PATH, {"--json", "--", "/bin/sh", "-c", "exit 4"});
  EXPECT_EQ(output.exit_status, 4) << output.err;
  nlohmann::json document = parse_document(output.out);
  expect_workload_document(document, "nozero-exec");
  EXPECT_EQ(document["command"]["exit_status"], 4);
  EXPECT_TRUE(document["command"]["signal"].is_null());
  EXPECT_EQ(document["command"]["argv"], (nlohmann::json{"/bin/sh", "-c", "exit 4"}));
  EXPECT_EQ(document["nozero"]["requested"], true);
  EXPECT_GE(metric_value(document, "wall_s"), 0);
}

TEST(NozeroExec, JsonKeepsStdoutParseable) {
  ProgramOutput output = run(NOZERO_EXEC_PATH, {"--json", "--", "/bin/sh", "-c", "echo from-command"});
  EXPECT_EQ(output.exit_status, 0) << output.err;
  expect_workload_document(parse_document(output.out), "nozero-exec");
  EXPECT_NE(output.err.find("from-command\n"), std::string::npos) << output.err;
}

TEST(NozeroExec, JsonWrapsWorkload) {
  nozero::testing::TemporaryDirectory dir;
  std::string path = dir.path() + "/exec.json";
  ProgramOutput output = run(NOZERO_EXEC_PATH, {"--json=" + path, NZMMAP_TEST_PATH, "-p", "32", "-i", "3"});
  ASSERT_EQ(output.exit_status, 0) << output.err;
  EXPECT_NE(output.out.find("3 iterations, 96 pages scanned"), std::string::npos) << output.out;
  nlohmann::json document = parse_document(nozero::testing::read_text_file(path));
  expect_workload_document(document, "nozero-exec");
  EXPECT_GE(document["page_faults"]["minor"].get<long>(), 96);
}

// ---- Every program -------------------------------------------------------------

TEST(AllPrograms, HelpAndVersion) {
  for (const char* program : {NZMMAP_TEST_PATH, NZMALLOC_TEST_PATH, SMIFFY_PATH, CC_SIM_PATH, NOZERO_EXEC_PATH}) {
    ProgramOutput help = run(program, {"--help"});
    EXPECT_EQ(help.exit_status, 0) << program;
    EXPECT_NE(help.out.find("--json [=FILE]"), std::string::npos) << program << help.out;
    ProgramOutput version = run(program, {"--version"});
    EXPECT_EQ(version.exit_status, 0) << program;
    EXPECT_NE(version.out.find(std::filesystem::path(program).filename().string() + " 0."), std::string::npos)
        << version.out;
  }
}

struct BadInput {
  std::string name;
  const char* program;
  std::vector<std::string> args;
  std::string message;
};

class BadInputs : public ::testing::TestWithParam<BadInput> {};

TEST_P(BadInputs, ExitTwoWithMessage) {
  const BadInput& input = GetParam();
  ProgramOutput output = run(input.program, input.args);
  EXPECT_EQ(output.exit_status, 2) << output.err;
  EXPECT_NE(output.err.find(input.message), std::string::npos) << output.err;
  EXPECT_EQ(output.out, "");
}

// Names the case in CTest's test names.
void PrintTo(const BadInput& input, std::ostream* out) { *out << input.name; }

INSTANTIATE_TEST_SUITE_P(
    Cases, BadInputs,
    ::testing::Values(
        BadInput{"NzmmapZeroPages", NZMMAP_TEST_PATH, {"-p", "0"}, "nzmmap-test: error: -p,--pages: 0 is out of range"},
        BadInput{"NzmmapNegativePages", NZMMAP_TEST_PATH, {"-p", "-4"}, "-p,--pages: -4 is out of range: expected an integer from 1 to"},
        BadInput{"NzmmapZeroIterations", NZMMAP_TEST_PATH, {"-i", "0"}, "-i,--iterations: 0 is out of range"},
        BadInput{"NzmmapNegativeSeconds", NZMMAP_TEST_PATH, {"-S", "-1"}, "-S,--seconds: -1 is out of range"},
        BadInput{"NzmmapPagesBeyondMemory", NZMMAP_TEST_PATH, {"-p", "4000000000"}, "-p,--pages: 4000000000 needs"},
        BadInput{"NzmallocBlockBeyondPages", NZMALLOC_TEST_PATH, {"-p", "8", "-b", "9"}, "-b,--block-pages: 9 is more than -p,--pages (8)"},
        BadInput{"NzmallocZeroBlock", NZMALLOC_TEST_PATH, {"-b", "0"}, "-b,--block-pages: 0 is out of range"},
        BadInput{"NzmallocUnknownMode", NZMALLOC_TEST_PATH, {"--malloc", "jemalloc"}, "--malloc: \"jemalloc\" is not valid: expected one of default, mmap, brk"},
        BadInput{"SmiffyNozeroWithMapping", SMIFFY_PATH, {"-N", "--mapping", "both"}, "-N,--nozero and --mapping cannot be combined"},
        BadInput{"SmiffyZeroPages", SMIFFY_PATH, {"-p", "0"}, "smiffy: error: -p,--pages: 0 is out of range"},
        BadInput{"CcSimZeroJobs", CC_SIM_PATH, {"-j", "0"}, "cc-sim: error: -j,--jobs: 0 is out of range"},
        BadInput{"CcSimNegativeUnits", CC_SIM_PATH, {"-u", "-1"}, "-u,--units: -1 is out of range"},
        BadInput{"CcSimFunctionsBeyondMemory", CC_SIM_PATH, {"-f", "16000000"}, "-f,--functions: 16000000 needs"},
        BadInput{"NozeroExecNoCommand", NOZERO_EXEC_PATH, {"--json"}, "nozero-exec: error: missing CMD"}));

}  // namespace

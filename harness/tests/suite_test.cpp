// Suite files: defaults, overrides, the built-in suites, and errors that name the
// file, the line and the accepted keys or values.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "core/errors.h"
#include "run/suite.h"

namespace nozero::run {
namespace {

const char* const kMinimal = R"(
[[workload]]
name = "nzmmap"
program = "nzmmap-test"
)";

// Parses `text` as "test.toml" and returns the error message, or "" if it parsed.
std::string parse_error(const std::string& text) {
  try {
    parse_suite(text, "test.toml");
  } catch (const CommandError& error) {
    EXPECT_EQ(error.exit_code(), kExitUsage);
    return error.what();
  }
  return "";
}

TEST(SuiteParse, MinimalSuiteGetsDefaults) {
  Suite suite = parse_suite(kMinimal, "test.toml");
  ASSERT_EQ(suite.workloads.size(), 1u);
  const Workload& workload = suite.workloads[0];
  EXPECT_EQ(workload.name, "nzmmap");
  EXPECT_EQ(workload.arms, (std::vector<Arm>{Arm::baseline, Arm::nozero}));
  EXPECT_EQ(workload.repetitions, 3u);
  EXPECT_EQ(workload.warmups, 1u);
  EXPECT_EQ(workload.thp, "madvise");
  EXPECT_EQ(workload.nozero, "flag");
  EXPECT_EQ(workload.metric, "wall_s");
  EXPECT_TRUE(workload.leak_check);
  EXPECT_EQ(workload.line, 2);
  EXPECT_EQ(suite.vm.cpus, 2u);
  EXPECT_EQ(suite.vm.memory_mib, 2048u);
  EXPECT_EQ(suite.workload_uid, 1000u);
  EXPECT_EQ(suite.leak_check.uid, 1001u);
  EXPECT_FALSE(suite.seed.has_value());
  EXPECT_TRUE(suite.profile);
  EXPECT_EQ(suite.runs_per_boot, 0u);
  EXPECT_EQ(suite.sha256.size(), 64u);
}

TEST(SuiteParse, SuiteDefaultsApplyToWorkloads) {
  Suite suite = parse_suite(R"(
[suite]
name = "mine"
repetitions = 7
warmups = 2
arms = ["baseline", "nozero", "unpatched"]
seed = 42
runs_per_boot = 4
timeout_s = 99
[vm]
cpus = 4
memory_mib = 4096
thp = "always"
[[workload]]
name = "a"
program = "ebizzy-nz"
args = ["-m"]
[[workload]]
name = "b"
program = "ebizzy-nz"
repetitions = 2
arms = ["nozero"]
thp = "never"
nozero = "exec"
metric = "elapsed_s"
leak_check = false
)",
                            "test.toml");
  EXPECT_EQ(suite.name, "mine");
  EXPECT_EQ(suite.seed, 42u);
  EXPECT_EQ(suite.runs_per_boot, 4u);
  EXPECT_EQ(suite.vm.cpus, 4u);
  EXPECT_TRUE(suite.uses_arm(Arm::unpatched));
  const Workload& a = suite.workloads[0];
  EXPECT_EQ(a.repetitions, 7u);
  EXPECT_EQ(a.warmups, 2u);
  EXPECT_EQ(a.thp, "always");
  EXPECT_EQ(a.timeout_s, 99u);
  EXPECT_EQ(a.metric, "records_per_s");
  EXPECT_EQ(a.args, std::vector<std::string>{"-m"});
  EXPECT_EQ(a.arms.size(), 3u);
  const Workload& b = suite.workloads[1];
  EXPECT_EQ(b.repetitions, 2u);
  EXPECT_EQ(b.arms, std::vector<Arm>{Arm::nozero});
  EXPECT_EQ(b.thp, "never");
  EXPECT_EQ(b.nozero, "exec");
  EXPECT_EQ(b.metric, "elapsed_s");
  EXPECT_FALSE(b.leak_check);
}

TEST(SuiteParse, MakeWorkloadTakesTreeAndJobs) {
  Suite suite = parse_suite(R"(
[vm]
cpus = 3
[[workload]]
name = "build"
program = "make"
)",
                            "test.toml");
  EXPECT_EQ(suite.workloads[0].tree, "linux-tools");
  EXPECT_EQ(suite.workloads[0].jobs, 3u);
  EXPECT_EQ(suite.workloads[0].nozero, "exec");
}

TEST(SuiteErrors, UnknownKeyNamesLineAndAcceptedKeys) {
  std::string error = parse_error(R"(
[[workload]]
name = "x"
program = "nzmmap-test"
repetitons = 3
)");
  EXPECT_NE(error.find("test.toml:5:"), std::string::npos) << error;
  EXPECT_NE(error.find("unknown key 'repetitons' in [[workload]]"), std::string::npos) << error;
  EXPECT_NE(error.find("accepted keys: name, program, args"), std::string::npos) << error;
}

TEST(SuiteErrors, UnknownTopLevelTable) {
  std::string error = parse_error(std::string{"[guest]\ncpus = 2\n"} + kMinimal);
  EXPECT_NE(error.find("test.toml:1:"), std::string::npos) << error;
  EXPECT_NE(error.find("unknown key 'guest'"), std::string::npos) << error;
  EXPECT_NE(error.find("suite, vm, host, leak_check, workload, benchmark"), std::string::npos) << error;
}

TEST(SuiteErrors, InvalidThpListsModes) {
  std::string error = parse_error(std::string{kMinimal} + "thp = \"sometimes\"\n");
  EXPECT_NE(error.find("test.toml:5:"), std::string::npos) << error;
  EXPECT_NE(error.find("invalid 'thp' in [[workload]] 'sometimes'"), std::string::npos) << error;
  EXPECT_NE(error.find("accepted values: never, madvise, always"), std::string::npos) << error;
}

TEST(SuiteErrors, UnknownProgramListsPrograms) {
  std::string error = parse_error("[[workload]]\nname = \"x\"\nprogram = \"gcc\"\n");
  EXPECT_NE(error.find("test.toml:3:"), std::string::npos) << error;
  EXPECT_NE(error.find("accepted values: ebizzy-nz, nzmmap-test, nzmalloc-test, cc-sim, make, command"),
            std::string::npos)
      << error;
}

TEST(SuiteErrors, MissingProgram) {
  std::string error = parse_error("[[workload]]\nname = \"x\"\n");
  EXPECT_NE(error.find("test.toml:1:"), std::string::npos) << error;
  EXPECT_NE(error.find("[[workload]] has no 'program'"), std::string::npos) << error;
}

TEST(SuiteErrors, WrongTypes) {
  EXPECT_NE(parse_error(std::string{kMinimal} + "repetitions = \"3\"\n").find("'repetitions' in [[workload]] must be an integer"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string{kMinimal} + "args = \"-m\"\n").find("must be an array of strings"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string{kMinimal} + "args = [1]\n").find("must contain only strings"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string{kMinimal} + "leak_check = 1\n").find("must be true or false"),
            std::string::npos);
  EXPECT_NE(parse_error(std::string{"suite = 3\n"} + kMinimal).find("'suite' must be a table"),
            std::string::npos);
  EXPECT_NE(parse_error("[workload]\nname = \"x\"\n").find("must be an array of tables, written [[workload]]"),
            std::string::npos);
}

TEST(SuiteErrors, OutOfRangeNamesRange) {
  std::string error = parse_error(std::string{kMinimal} + "repetitions = 0\n");
  EXPECT_NE(error.find("test.toml:5:"), std::string::npos) << error;
  EXPECT_NE(error.find("accepted values: 1 to 1000"), std::string::npos) << error;
  error = parse_error(std::string{"[vm]\nmemory_mib = 100\n"} + kMinimal);
  EXPECT_NE(error.find("test.toml:2:"), std::string::npos) << error;
  EXPECT_NE(error.find("256 to"), std::string::npos) << error;
}

TEST(SuiteErrors, InvalidArm) {
  std::string error = parse_error(std::string{kMinimal} + "arms = [\"nozero\", \"fast\"]\n");
  EXPECT_NE(error.find("invalid value 'fast'"), std::string::npos) << error;
  EXPECT_NE(error.find("accepted values: baseline, nozero, unpatched"), std::string::npos) << error;
  error = parse_error(std::string{kMinimal} + "arms = [\"nozero\", \"nozero\"]\n");
  EXPECT_NE(error.find("lists 'nozero' twice"), std::string::npos) << error;
  error = parse_error(std::string{kMinimal} + "arms = []\n");
  EXPECT_NE(error.find("is empty"), std::string::npos) << error;
}

TEST(SuiteErrors, DuplicateWorkloadName) {
  std::string error = parse_error(std::string{kMinimal} + kMinimal);
  EXPECT_NE(error.find("test.toml:6:"), std::string::npos) << error;
  EXPECT_NE(error.find("workload name 'nzmmap' is used twice"), std::string::npos) << error;
}

TEST(SuiteErrors, InvalidWorkloadName) {
  std::string error = parse_error("[[workload]]\nname = \"a b\"\nprogram = \"cc-sim\"\n");
  EXPECT_NE(error.find("invalid workload name 'a b'"), std::string::npos) << error;
}

TEST(SuiteErrors, NoWorkloads) {
  std::string error = parse_error("[suite]\nname = \"empty\"\n");
  EXPECT_NE(error.find("test.toml: the suite has no [[workload]] table"), std::string::npos) << error;
}

TEST(SuiteErrors, InvalidTomlNamesLine) {
  std::string error = parse_error("[[workload]]\nname = \"x\nprogram = \"cc-sim\"\n");
  EXPECT_NE(error.find("test.toml:2:"), std::string::npos) << error;
  EXPECT_NE(error.find("invalid TOML"), std::string::npos) << error;
}

TEST(SuiteErrors, CommandProgramNeedsCommand) {
  std::string error = parse_error("[[workload]]\nname = \"x\"\nprogram = \"command\"\n");
  EXPECT_NE(error.find("needs a non-empty 'command' array"), std::string::npos) << error;
  error = parse_error(std::string{kMinimal} + "command = [\"true\"]\n");
  EXPECT_NE(error.find("'command' is only for program \"command\""), std::string::npos) << error;
}

TEST(SuiteErrors, MakeOnlyKeys) {
  std::string error = parse_error(std::string{kMinimal} + "jobs = 2\n");
  EXPECT_NE(error.find("'jobs' is only for program \"make\""), std::string::npos) << error;
  error = parse_error("[[workload]]\nname = \"b\"\nprogram = \"make\"\ntree = \"gcc\"\n");
  EXPECT_NE(error.find("accepted values: linux-tools"), std::string::npos) << error;
}

TEST(SuiteErrors, NozeroFlagNeedsOwnBinary) {
  std::string error = parse_error("[[workload]]\nname = \"b\"\nprogram = \"make\"\nnozero = \"flag\"\n");
  EXPECT_NE(error.find("invalid 'nozero' in [[workload]] 'flag'; accepted values: exec"), std::string::npos)
      << error;
}

TEST(SuiteErrors, LeakCheckerMustBeAnotherUser) {
  std::string error = parse_error(std::string{"[leak_check]\nuid = 1000\n"} + kMinimal);
  EXPECT_NE(error.find("test.toml:2:"), std::string::npos) << error;
  EXPECT_NE(error.find("equals workload_uid"), std::string::npos) << error;
}

TEST(SuiteErrors, BenchmarkBinaryIsAFileName) {
  std::string error = parse_error(std::string{kMinimal} + "[[benchmark]]\nbinary = \"/bin/true\"\n");
  EXPECT_NE(error.find("not a path"), std::string::npos) << error;
}

TEST(BuiltinSuites, AllParseAndAreNamed) {
  std::vector<std::string> names;
  for (const BuiltinSuite& builtin : builtin_suites()) names.emplace_back(builtin.name);
  EXPECT_EQ(names, (std::vector<std::string>{"smoke", "default", "full"}));
  for (const std::string& name : names) {
    Suite suite = load_suite(name);
    EXPECT_EQ(suite.name, name);
    EXPECT_FALSE(suite.description.empty()) << name;
    EXPECT_TRUE(suite.path.empty()) << name;
    EXPECT_TRUE(suite.uses_arm(Arm::baseline)) << name;
    EXPECT_TRUE(suite.uses_arm(Arm::nozero)) << name;
    EXPECT_TRUE(suite.leak_check.enabled) << name;
  }
}

TEST(BuiltinSuites, DefaultCoversTheRequiredWorkloads) {
  Suite suite = load_suite("default");
  std::vector<std::string> programs;
  bool thp_case = false;
  bool ebizzy_modes[3] = {false, false, false};  // default, -m, -M
  for (const Workload& workload : suite.workloads) {
    programs.push_back(workload.program);
    if (workload.thp == "always") thp_case = true;
    if (workload.program == "ebizzy-nz") {
      bool m = std::find(workload.args.begin(), workload.args.end(), "-m") != workload.args.end();
      bool big_m = std::find(workload.args.begin(), workload.args.end(), "-M") != workload.args.end();
      ebizzy_modes[m ? 1 : big_m ? 2 : 0] = true;
    }
  }
  for (const char* program : {"ebizzy-nz", "nzmmap-test", "nzmalloc-test", "cc-sim", "make"}) {
    EXPECT_NE(std::find(programs.begin(), programs.end(), program), programs.end()) << program;
  }
  EXPECT_TRUE(thp_case);
  EXPECT_TRUE(ebizzy_modes[0] && ebizzy_modes[1] && ebizzy_modes[2]);
  EXPECT_FALSE(suite.benchmarks.empty());
  // Below four repetitions per arm no difference can be significant at 0.05.
  for (const Workload& workload : suite.workloads) EXPECT_GE(workload.repetitions, 4u) << workload.name;
}

TEST(SuiteLoad, UnknownNameListsBuiltins) {
  try {
    load_suite("no-such-suite");
    FAIL() << "expected an error";
  } catch (const CommandError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("'no-such-suite' is neither a built-in suite (smoke, default, full)"), std::string::npos)
        << message;
  }
}

TEST(SuiteLoad, FileGetsPathAndStemName) {
  std::filesystem::path path = std::filesystem::temp_directory_path() / "suite_test_my-suite.toml";
  {
    std::ofstream file(path);
    file << kMinimal;
  }
  Suite suite = load_suite(path.string());
  EXPECT_EQ(suite.name, "suite_test_my-suite");
  EXPECT_EQ(suite.path, std::filesystem::absolute(path));
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace nozero::run

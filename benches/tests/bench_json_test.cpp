// Checks the JSON that short runs of nzbench-fault and nzbench-clear wrote (CTest
// runs them first as the *_short_run tests), and the binaries' exit statuses.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "summary.h"

extern char** environ;

namespace {

using nlohmann::json;

json load(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    ADD_FAILURE() << "missing " << path << ": run the *_short_run tests first (ctest runs them as fixtures)";
    return json::object();
  }
  return json::parse(file);
}

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// Runs argv with stdout and stderr sent to files; returns the exit status, or -1.
int run(const std::vector<std::string>& argv, const std::string& stdout_path, const std::string& stderr_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> arguments;
  for (const std::string& argument : argv) {
    arguments.push_back(const_cast<char*>(argument.c_str()));
  }
  arguments.push_back(nullptr);

  pid_t pid = 0;
  const int error = posix_spawn(&pid, arguments[0], &actions, nullptr, arguments.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (error != 0) {
    return -1;
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
    return -1;
  }
  return WEXITSTATUS(status);
}

const json* find_run(const json& document, const std::string& name) {
  for (const json& run : document["benchmarks"]) {
    if (run.value("name", "") == name) {
      return &run;
    }
  }
  return nullptr;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::stringstream stream(text);
  std::string part;
  while (std::getline(stream, part, separator)) {
    parts.push_back(part);
  }
  return parts;
}

const std::vector<std::string> kFaultNames = {
    "fault_4k/baseline",          "fault_4k/nozero",          "reuse_4k/dontneed/baseline",
    "reuse_4k/dontneed/nozero",   "reuse_4k/free/baseline",   "fault_thp/baseline",
    "fault_thp/nozero",           "reuse_thp/dontneed/baseline", "reuse_thp/dontneed/nozero",
    "reuse_thp/free/baseline"};

std::vector<std::string> clear_names() {
  std::vector<std::string> names;
  for (const char* block : {"4k", "2m"}) {
    for (const char* method : {"memset", "rep_stosb", "movnti", "movntdq"}) {
      for (const char* warmth : {"hot", "cold"}) {
        names.push_back(std::string("clear/") + method + "/" + block + "/" + warmth);
      }
    }
  }
  return names;
}

void expect_names(const json& document, const std::vector<std::string>& expected) {
  std::multiset<std::string> names;
  for (const json& run : document["benchmarks"]) {
    names.insert(run.value("name", ""));
  }
  for (const std::string& name : expected) {
    EXPECT_EQ(names.count(name), 1u) << name;
  }
  EXPECT_EQ(names.size(), expected.size());
}

// Every run that did not fail carries the page counters and the event counters the
// context lists, and the counters agree with each other.
void expect_page_counters(const json& document) {
  const auto counters = split(document["context"].value("counters", ""), ',');
  ASSERT_FALSE(counters.empty());
  for (const json& run : document["benchmarks"]) {
    const std::string name = run.value("name", "");
    if (run.value("error_occurred", false)) {
      continue;
    }
    EXPECT_GT(run.value("iterations", 0), 0) << name;
    const double pages_per_s = run.value("pages_per_s", 0.0);
    EXPECT_GT(pages_per_s, 0.0) << name;
    EXPECT_NEAR(run.value("ns_per_page", 0.0) * pages_per_s, 1e9, 1e9 * 1e-9) << name;
    EXPECT_NEAR(run.value("bytes_per_second", 0.0), pages_per_s * 4096.0, pages_per_s * 4096.0 * 1e-9) << name;
    for (const std::string& counter : counters) {
      EXPECT_TRUE(run.contains(counter)) << name << " lacks " << counter;
    }
  }
}

void expect_context(const json& document) {
  const json& context = document["context"];
  utsname system{};
  ASSERT_EQ(uname(&system), 0);
  EXPECT_EQ(context.value("kernel_release", ""), system.release);
  for (const char* key : {"measured_on", "cpu_model", "thp_enabled", "thp_defrag", "nozero_detail", "counters",
                          "counter_scope", "rate_time", "nozero_bench_version"}) {
    EXPECT_FALSE(context.value(key, "").empty()) << key;
  }
  const std::set<std::string> supports = {"supported", "disabled", "not-supported"};
  EXPECT_TRUE(supports.contains(context.value("nozero_kernel_support", ""))) << context.dump();

  const std::string mode = context.value("counter_mode", "");
  if (mode == "software: no PMU") {
    EXPECT_NE(context.value("counter_fallback_reason", "").find("failed"), std::string::npos) << context.dump();
    EXPECT_EQ(context.value("counters", ""), "page_faults,task_clock_ns,context_switches");
  } else {
    EXPECT_EQ(mode, "hardware (libpfm4)");
    EXPECT_EQ(context.value("counters", "").rfind("cycles_user", 0), 0u) << context.dump();
  }
}

class FaultBenchJson : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { document_ = load(NZBENCH_FAULT_JSON); }
  static json document_;
};
json FaultBenchJson::document_;

TEST_F(FaultBenchJson, ContextDescribesSystem) { expect_context(document_); }

TEST_F(FaultBenchJson, ListsEveryBenchmark) { expect_names(document_, kFaultNames); }

TEST_F(FaultBenchJson, PageCountersAgree) { expect_page_counters(document_); }

TEST_F(FaultBenchJson, NozeroArmsFollowSupport) {
  const std::string support = document_["context"].value("nozero_kernel_support", "");
  const std::string detail = document_["context"].value("nozero_detail", "");
  for (const std::string& name : kFaultNames) {
    if (!name.ends_with("/nozero")) {
      continue;
    }
    const json* run = find_run(document_, name);
    ASSERT_NE(run, nullptr) << name;
    if (support == "supported") {
      EXPECT_FALSE(run->value("error_occurred", false)) << run->dump();
    } else {
      EXPECT_TRUE(run->value("error_occurred", false)) << name;
      EXPECT_NE(run->value("error_message", "").find(detail), std::string::npos) << run->dump();
    }
  }
}

TEST_F(FaultBenchJson, SmallPagesFaultOncePerPage) {
  for (const char* name : {"fault_4k/baseline", "reuse_4k/dontneed/baseline"}) {
    const json* run = find_run(document_, name);
    ASSERT_NE(run, nullptr) << name;
    EXPECT_GE(run->value("page_faults", 0.0), 4096.0) << name;
    EXPECT_LT(run->value("page_faults", 0.0), 4096.0 * 1.05) << name;
  }
}

TEST_F(FaultBenchJson, FreeAvoidsFaults) {
  const json* dontneed = find_run(document_, "reuse_4k/dontneed/baseline");
  const json* free = find_run(document_, "reuse_4k/free/baseline");
  ASSERT_NE(dontneed, nullptr);
  ASSERT_NE(free, nullptr);
  EXPECT_LT(free->value("page_faults", 1e9), dontneed->value("page_faults", 0.0) / 2);
}

TEST_F(FaultBenchJson, HugePageShareMatchesLabel) {
  for (const char* name : {"fault_thp/baseline", "reuse_thp/dontneed/baseline", "reuse_thp/free/baseline"}) {
    const json* run = find_run(document_, name);
    ASSERT_NE(run, nullptr) << name;
    ASSERT_TRUE(run->contains("huge_page_share")) << name;
    const double share = run->value("huge_page_share", -1.0);
    EXPECT_GE(share, 0.0) << name;
    EXPECT_LE(share, 1.0) << name;
    const bool flagged = run->value("label", "").find("NOT fully THP-backed") != std::string::npos;
    EXPECT_EQ(flagged, share < 1.0) << run->dump();
    if (share == 1.0) {
      // One fault per 2 MiB page instead of one per 4 KiB page.
      EXPECT_LT(run->value("page_faults", 1e9), 64.0) << name;
    }
  }
}

TEST_F(FaultBenchJson, ThpFaultsCountedByVmstat) {
  const json* run = find_run(document_, "fault_thp/baseline");
  ASSERT_NE(run, nullptr);
  ASSERT_TRUE(run->contains("vmstat_thp_fault_alloc")) << run->dump();
  if (run->value("huge_page_share", 0.0) == 1.0) {
    // System-wide: other processes may add to it, never take from it.
    EXPECT_GE(run->value("vmstat_thp_fault_alloc", 0.0), 8.0);
  }
}

class ClearBenchJson : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { document_ = load(NZBENCH_CLEAR_JSON); }
  static json document_;
};
json ClearBenchJson::document_;

TEST_F(ClearBenchJson, ContextDescribesSystem) { expect_context(document_); }

TEST_F(ClearBenchJson, ListsEveryBenchmark) { expect_names(document_, clear_names()); }

TEST_F(ClearBenchJson, PageCountersAgree) { expect_page_counters(document_); }

TEST_F(ClearBenchJson, LoopDoesNotFault) {
  for (const json& run : document_["benchmarks"]) {
    EXPECT_FALSE(run.value("error_occurred", false)) << run.dump();
    EXPECT_LT(run.value("page_faults", 1e9), 1.0) << run.value("name", "");
  }
}

TEST(BenchSummary, ReadsShortRuns) {
  const auto summary = nozero::benches::summarise({nozero::benches::load_benchmark_file(NZBENCH_FAULT_JSON),
                                                    nozero::benches::load_benchmark_file(NZBENCH_CLEAR_JSON)});
  EXPECT_EQ(summary["fault"]["4k"]["status"], "measured");
  EXPECT_EQ(summary["clear_share_of_fault"]["4k"]["cold"]["status"], "measured");
  const double share = summary["clear_share_of_fault"]["4k"]["cold"]["share"].get<double>();
  EXPECT_GT(share, 0.0);
  EXPECT_LT(share, 1.0);
  const bool supported = summary["nozero_kernel_support"] == "supported";
  EXPECT_EQ(summary["nozero"]["fault_thp"]["status"] == "measured", supported) << summary["nozero"].dump();
}

TEST(BenchBinary, SummaryBinaryPrintsText) {
  const std::string out = std::string(NZBENCH_OUTPUT_DIR) + "/summary.txt";
  const std::string err = std::string(NZBENCH_OUTPUT_DIR) + "/summary.err";
  EXPECT_EQ(run({NZBENCH_SUMMARY_BINARY, NZBENCH_FAULT_JSON, NZBENCH_CLEAR_JSON}, out, err), 0) << read_text(err);
  EXPECT_NE(read_text(out).find("Physical limit: clearing"), std::string::npos) << read_text(out);
}

TEST(BenchBinary, UnknownFlagExitsTwo) {
  const std::string out = std::string(NZBENCH_OUTPUT_DIR) + "/unknown.out";
  const std::string err = std::string(NZBENCH_OUTPUT_DIR) + "/unknown.err";
  EXPECT_EQ(run({NZBENCH_CLEAR_BINARY, "--no_such_flag"}, out, err), 2);
  EXPECT_NE(read_text(err).find("no_such_flag"), std::string::npos) << read_text(err);
}

TEST(BenchBinary, EmptyFilterExitsTwo) {
  const std::string out = std::string(NZBENCH_OUTPUT_DIR) + "/filter.out";
  const std::string err = std::string(NZBENCH_OUTPUT_DIR) + "/filter.err";
  EXPECT_EQ(run({NZBENCH_FAULT_BINARY, "--benchmark_filter=^no_such_benchmark$"}, out, err), 2);
}

TEST(BenchBinary, ContextFlagSetsMeasuredOn) {
  const std::string json_path = std::string(NZBENCH_OUTPUT_DIR) + "/measured_on.json";
  const std::string out = std::string(NZBENCH_OUTPUT_DIR) + "/measured_on.out";
  const std::string err = std::string(NZBENCH_OUTPUT_DIR) + "/measured_on.err";
  const int status = run({NZBENCH_CLEAR_BINARY, "--benchmark_filter=^clear/memset/4k/hot$",
                          "--benchmark_min_time=0.001", "--benchmark_context=measured_on=TCG guest",
                          "--benchmark_out=" + json_path, "--benchmark_out_format=json"},
                         out, err);
  ASSERT_EQ(status, 0) << read_text(err);
  EXPECT_EQ(load(json_path)["context"].value("measured_on", ""), "TCG guest");
  EXPECT_EQ(read_text(err).find("Failed to add custom context"), std::string::npos) << read_text(err);
}

}  // namespace

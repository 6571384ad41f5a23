#include "nozero/result.h"

#include <gtest/gtest.h>

#include "testing/run_program.h"
#include "testing/workload_schema.h"

namespace nozero {
namespace {

WorkloadReport sample_report() {
  WorkloadReport report("ebizzy-nz");
  report.parameters()["threads"] = 2;
  NozeroSupport support;
  support.detail = "/proc/sys/vm/nozero not found";
  report.set_nozero(support, true);
  report.add_metric("records_per_s", 9042.5, "records/s", Better::higher);
  report.set_samples("records_per_s", {9000.0, 9085.0});
  ResourceUsage usage;
  usage.stime_s = 2.5;
  usage.minflt = 100;
  report.set_rusage(usage, "this process, measured phase");
  report.section("threads")["records"] = {1, 2};
  return report;
}

TEST(WorkloadReport, FollowsSchema) {
  nlohmann::json document = nlohmann::json::parse(sample_report().to_json().dump());
  testing::expect_workload_document(document, "ebizzy-nz");
}

TEST(WorkloadReport, CarriesValues) {
  nlohmann::ordered_json document = sample_report().to_json();
  EXPECT_EQ(document["program_version"], std::string(program_version()));
  EXPECT_EQ(document["parameters"]["threads"], 2);
  EXPECT_EQ(document["nozero"]["requested"], true);
  EXPECT_EQ(document["nozero"]["kernel_support"], "not-supported");
  EXPECT_DOUBLE_EQ(document["metrics"]["records_per_s"]["value"].get<double>(), 9042.5);
  EXPECT_EQ(document["metrics"]["records_per_s"]["unit"], "records/s");
  EXPECT_EQ(document["metrics"]["records_per_s"]["better"], "higher");
  EXPECT_EQ(document["samples"]["records_per_s"].size(), 2u);
  EXPECT_DOUBLE_EQ(document["rusage"]["stime_s"].get<double>(), 2.5);
  EXPECT_EQ(document["page_faults"]["minor"], 100);
  EXPECT_EQ(document["rusage_scope"], "this process, measured phase");
  EXPECT_EQ(document["threads"]["records"].size(), 2u);
}

TEST(WorkloadReport, StartsWithSchemaKeys) {
  nlohmann::ordered_json document = sample_report().to_json();
  auto key = document.begin();
  EXPECT_EQ(key.key(), "schema");
  ++key;
  EXPECT_EQ(key.key(), "schema_version");
}

TEST(WorkloadReport, StartedAtIsUtcIso8601) {
  std::string started_at = sample_report().to_json()["started_at"];
  ASSERT_EQ(started_at.size(), 20u) << started_at;
  EXPECT_EQ(started_at[4], '-');
  EXPECT_EQ(started_at[10], 'T');
  EXPECT_EQ(started_at.back(), 'Z');
}

TEST(WorkloadReport, WritesFileAtomically) {
  testing::TemporaryDirectory dir;
  cli::JsonDestination destination{true, dir.path() + "/out.json"};
  write_report(sample_report(), destination);
  nlohmann::json document = testing::parse_document(testing::read_text_file(destination.path));
  testing::expect_workload_document(document, "ebizzy-nz");
}

TEST(WorkloadReport, DisabledDestinationWritesNothing) {
  testing::TemporaryDirectory dir;
  cli::JsonDestination destination{false, dir.path() + "/out.json"};
  write_report(sample_report(), destination);
  EXPECT_FALSE(std::filesystem::exists(destination.path));
}

}  // namespace
}  // namespace nozero

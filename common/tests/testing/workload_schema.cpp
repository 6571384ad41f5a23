#include "testing/workload_schema.h"

#include <gtest/gtest.h>

#include <limits>

namespace nozero::testing {
namespace {

void expect_field(const nlohmann::json& object, const std::string& key, nlohmann::json::value_t type,
                  const std::string& where) {
  ASSERT_TRUE(object.contains(key)) << where << " has no \"" << key << "\"";
  const nlohmann::json& value = object.at(key);
  if (type == nlohmann::json::value_t::number_float) {
    EXPECT_TRUE(value.is_number()) << where << "." << key << " is not a number: " << value;
  } else if (type == nlohmann::json::value_t::number_integer) {
    EXPECT_TRUE(value.is_number_integer()) << where << "." << key << " is not an integer: " << value;
  } else {
    EXPECT_EQ(value.type(), type) << where << "." << key << " has the wrong type: " << value;
  }
}

}  // namespace

void expect_workload_document(const nlohmann::json& document, const std::string& program) {
  using Type = nlohmann::json::value_t;
  ASSERT_TRUE(document.is_object()) << "the document is not an object";
  EXPECT_EQ(document.value("schema", ""), "nozero-bench/workload");
  EXPECT_EQ(document.value("schema_version", 0), 1);
  EXPECT_EQ(document.value("program", ""), program);
  expect_field(document, "program_version", Type::string, "document");
  expect_field(document, "started_at", Type::string, "document");
  EXPECT_EQ(document.value("clock", ""), "CLOCK_MONOTONIC");
  expect_field(document, "parameters", Type::object, "document");
  expect_field(document, "rusage_scope", Type::string, "document");

  expect_field(document, "nozero", Type::object, "document");
  if (document.contains("nozero")) {
    const auto& nozero = document["nozero"];
    expect_field(nozero, "requested", Type::boolean, "nozero");
    expect_field(nozero, "detail", Type::string, "nozero");
    std::string support = nozero.value("kernel_support", "");
    EXPECT_TRUE(support == "supported" || support == "disabled" || support == "not-supported")
        << "nozero.kernel_support is \"" << support << "\"";
    ASSERT_TRUE(nozero.contains("sysctl"));
    EXPECT_TRUE(nozero["sysctl"].is_null() || nozero["sysctl"].is_number_integer());
  }

  expect_field(document, "metrics", Type::object, "document");
  if (document.contains("metrics")) {
    EXPECT_FALSE(document["metrics"].empty()) << "metrics is empty";
    for (const auto& [name, metric] : document["metrics"].items()) {
      std::string where = "metrics." + name;
      expect_field(metric, "value", Type::number_float, where);
      expect_field(metric, "unit", Type::string, where);
      std::string better = metric.value("better", "");
      EXPECT_TRUE(better == "higher" || better == "lower") << where << ".better is \"" << better << "\"";
    }
  }

  expect_field(document, "samples", Type::object, "document");
  if (document.contains("samples")) {
    for (const auto& [name, values] : document["samples"].items()) {
      ASSERT_TRUE(values.is_array()) << "samples." << name << " is not a list";
      for (const auto& value : values) EXPECT_TRUE(value.is_number()) << "samples." << name << ": " << value;
    }
  }

  expect_field(document, "rusage", Type::object, "document");
  if (document.contains("rusage")) {
    for (const char* key : {"utime_s", "stime_s"}) {
      expect_field(document["rusage"], key, Type::number_float, "rusage");
    }
    for (const char* key : {"maxrss_kib", "minflt", "majflt", "nvcsw", "nivcsw"}) {
      expect_field(document["rusage"], key, Type::number_integer, "rusage");
    }
  }
  expect_field(document, "page_faults", Type::object, "document");
  if (document.contains("page_faults")) {
    expect_field(document["page_faults"], "minor", Type::number_integer, "page_faults");
    expect_field(document["page_faults"], "major", Type::number_integer, "page_faults");
  }
}

double metric_value(const nlohmann::json& document, const std::string& name) {
  if (!document.contains("metrics") || !document["metrics"].contains(name) ||
      !document["metrics"][name].contains("value") || !document["metrics"][name]["value"].is_number()) {
    ADD_FAILURE() << "the document has no metric \"" << name << "\"";
    return std::numeric_limits<double>::quiet_NaN();
  }
  return document["metrics"][name]["value"].get<double>();
}

nlohmann::json parse_document(const std::string& text) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    ADD_FAILURE() << "invalid JSON (" << e.what() << "):\n" << text;
    return nlohmann::json();
  }
}

}  // namespace nozero::testing

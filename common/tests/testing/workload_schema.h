// The schema checks every real-run test applies to a workload's result document.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace nozero::testing {

// Adds a GoogleTest failure for every way `document` departs from the
// nozero-bench/workload schema. It checks for missing or mistyped fields, a
// foreign schema or version, and another program name. It also checks that each
// metric has a value, unit and direction and that each samples entry is a list of
// numbers.
void expect_workload_document(const nlohmann::json& document, const std::string& program);

// The value of metrics[name].value, or NaN (and a test failure) when it is missing.
double metric_value(const nlohmann::json& document, const std::string& name);

// Parses `text` as JSON, adding a test failure (with the text) when it is invalid.
nlohmann::json parse_document(const std::string& text);

}  // namespace nozero::testing

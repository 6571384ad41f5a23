// Number formatting shared by compare, gate and report messages.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

namespace nozero::stats {

// printf-style formatting of one double; NaN prints as "n/a".
inline std::string format_double(const char* format, double value) {
  if (std::isnan(value)) {
    return "n/a";
  }
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

// A measured value with five significant digits, without an exponent below 1e12:
// 812.53, 0.012345, 1453012.
inline std::string format_value(double value) {
  const double magnitude = std::fabs(value);
  return format_double(magnitude >= 1e5 && magnitude < 1e12 ? "%.0f" : "%.5g", value);
}

// A signed percentage with one decimal: +9.4%, -0.3%.
inline std::string format_pct(double pct) {
  if (std::isinf(pct)) {
    return pct > 0 ? "+inf%" : "-inf%";
  }
  return format_double("%+.1f%%", pct);
}

// A p-value: three decimals, or "<0.001".
inline std::string format_p(double p) { return p < 0.001 ? std::string{"<0.001"} : format_double("%.3f", p); }

// "p=0.645" or "p<0.001".
inline std::string p_text(double p) { return p < 0.001 ? std::string{"p<0.001"} : "p=" + format_double("%.3f", p); }

}  // namespace nozero::stats

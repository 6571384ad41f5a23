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

// A measured value with five significant digits: 812.53, 0.012345, 1.2346e+06.
inline std::string format_value(double value) { return format_double("%.5g", value); }

// A signed percentage with one decimal: +9.4%, -0.3%.
inline std::string format_pct(double pct) {
  if (std::isinf(pct)) {
    return pct > 0 ? "+inf%" : "-inf%";
  }
  return format_double("%+.1f%%", pct);
}

// A p-value: three decimals, or "<0.001".
inline std::string format_p(double p) { return p < 0.001 ? std::string{"<0.001"} : format_double("%.3f", p); }

}  // namespace nozero::stats

#include "kernel/kconfig.h"

#include <regex>
#include <sstream>

namespace nozero::kernel {
namespace {

std::string_view trim(std::string_view text) {
  auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

}  // namespace

std::vector<ConfigOption> parse_config(std::string_view text) {
  static const std::regex kSet{R"(^(CONFIG_[A-Za-z0-9_]+)=(.*)$)"};
  static const std::regex kUnset{R"(^# (CONFIG_[A-Za-z0-9_]+) is not set$)"};

  std::vector<ConfigOption> options;
  std::map<std::string, size_t> index_of;
  bool in_series = false;
  int line_number = 0;
  std::istringstream lines{std::string{text}};
  for (std::string raw; std::getline(lines, raw);) {
    ++line_number;
    std::string line{trim(raw)};
    if (line.starts_with(kSeriesSectionHeader)) {
      in_series = true;
      continue;
    }
    std::smatch match;
    ConfigOption option;
    if (std::regex_match(line, match, kSet)) {
      option = {match[1], match[2], in_series, line_number};
    } else if (std::regex_match(line, match, kUnset)) {
      option = {match[1], "n", in_series, line_number};
    } else {
      continue;
    }
    auto found = index_of.find(option.name);
    if (found != index_of.end()) {
      options[found->second] = option;
    } else {
      index_of[option.name] = options.size();
      options.push_back(option);
    }
  }
  return options;
}

std::map<std::string, std::string> config_values(std::string_view text) {
  std::map<std::string, std::string> values;
  for (const auto& option : parse_config(text)) values[option.name] = option.value;
  return values;
}

std::set<std::string> unknown_symbols(std::string_view kconfig_output) {
  static const std::regex kUnknown{R"(warning: unknown symbol: (?:CONFIG_)?([A-Za-z0-9_]+))"};
  std::set<std::string> names;
  std::string text{kconfig_output};
  for (std::sregex_iterator it{text.begin(), text.end(), kUnknown}, end; it != end; ++it)
    names.insert("CONFIG_" + (*it)[1].str());
  return names;
}

ConfigCheck check_config(const std::vector<ConfigOption>& fragment,
                         const std::map<std::string, std::string>& resolved,
                         const std::set<std::string>& unknown, bool patched) {
  ConfigCheck check;
  for (const auto& option : fragment) {
    auto found = resolved.find(option.name);
    std::string actual = found == resolved.end() ? "n" : found->second;
    if (actual == option.value) continue;
    bool is_unknown = unknown.contains(option.name);
    if (!patched && option.in_series_section && is_unknown) {
      check.series_only.push_back(option.name);
      continue;
    }
    check.dropped.push_back({option.name, option.value, actual, is_unknown});
  }
  return check;
}

std::string describe_dropped(const std::vector<DroppedOption>& dropped) {
  std::string text;
  for (const auto& option : dropped) {
    text += "  " + option.name + "=" + option.requested + " (now ";
    text += option.actual == "n" ? std::string{"not set"} : "=" + option.actual;
    if (option.unknown_symbol) text += "; Kconfig does not know this symbol";
    else text += "; a dependency is missing or another option overrides it";
    text += ")\n";
  }
  return text;
}

}  // namespace nozero::kernel

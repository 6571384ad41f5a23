// Kconfig fragments and resolved .config files: parsing, and checking that every
// option a fragment sets survived `make olddefconfig`.
#pragma once

#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace nozero::kernel {

// The comment line that starts the options only the MAP_NOZERO series defines.
// An unpatched tree does not know them, so an unpatched build may drop them.
inline constexpr std::string_view kSeriesSectionHeader = "# MAP_NOZERO series";

struct ConfigOption {
  std::string name;   // "CONFIG_TMPFS"
  std::string value;  // "y", "m", "16", "\"text\"", or "n" for "# CONFIG_X is not set"
  bool in_series_section = false;
  int line = 0;
};

// Parses "CONFIG_X=value" and "# CONFIG_X is not set" lines; other comments and
// blank lines are skipped. A later line for the same option replaces an earlier one,
// as merge_config.sh does.
std::vector<ConfigOption> parse_config(std::string_view text);

// name -> value of a resolved .config ("n" for options that are not set).
std::map<std::string, std::string> config_values(std::string_view text);

// Names from Kconfig's "unknown symbol: X" warnings (KCONFIG_WARN_UNKNOWN_SYMBOLS=1),
// returned with the CONFIG_ prefix.
std::set<std::string> unknown_symbols(std::string_view kconfig_output);

struct DroppedOption {
  std::string name;
  std::string requested;
  std::string actual;  // "n" when the option is absent from .config
  bool unknown_symbol = false;
};

struct ConfigCheck {
  std::vector<DroppedOption> dropped;
  // Series-section options an unpatched tree does not define: expected to be missing.
  std::vector<std::string> series_only;
};

// Compares each fragment option with the resolved .config. When `patched` is false,
// options of the series section whose symbol Kconfig reported unknown go to
// series_only instead of dropped.
ConfigCheck check_config(const std::vector<ConfigOption>& fragment,
                         const std::map<std::string, std::string>& resolved,
                         const std::set<std::string>& unknown, bool patched);

// One line per dropped option, for example
// "CONFIG_FOO=y (now not set; Kconfig does not know the symbol)".
std::string describe_dropped(const std::vector<DroppedOption>& dropped);

}  // namespace nozero::kernel

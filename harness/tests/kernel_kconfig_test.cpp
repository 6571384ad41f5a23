// Config fragment parsing and the check that every fragment option survived.
#include <gtest/gtest.h>

#include "kernel/kconfig.h"

namespace nozero::kernel {
namespace {

TEST(KconfigParse, ReadsSetAndUnsetOptions) {
  auto options = parse_config(
      "# comment\n"
      "CONFIG_TMPFS=y\n"
      "# CONFIG_IPV6 is not set\n"
      "CONFIG_NR_CPUS=16\n"
      "CONFIG_LOCALVERSION=\"-x\"\n"
      "\n"
      "not an option\n");
  ASSERT_EQ(options.size(), 4u);
  EXPECT_EQ(options[0].name, "CONFIG_TMPFS");
  EXPECT_EQ(options[0].value, "y");
  EXPECT_EQ(options[0].line, 2);
  EXPECT_EQ(options[1].name, "CONFIG_IPV6");
  EXPECT_EQ(options[1].value, "n");
  EXPECT_EQ(options[2].value, "16");
  EXPECT_EQ(options[3].value, "\"-x\"");
}

TEST(KconfigParse, LaterLineOverridesEarlier) {
  auto options = parse_config("CONFIG_A=y\nCONFIG_B=y\n# CONFIG_A is not set\n");
  ASSERT_EQ(options.size(), 2u);
  EXPECT_EQ(options[0].name, "CONFIG_A");
  EXPECT_EQ(options[0].value, "n");
}

TEST(KconfigParse, MarksSeriesSection) {
  auto options = parse_config("CONFIG_A=y\n# MAP_NOZERO series\n# why\nCONFIG_MAP_NOZERO=y\n");
  ASSERT_EQ(options.size(), 2u);
  EXPECT_FALSE(options[0].in_series_section);
  EXPECT_TRUE(options[1].in_series_section);
}

TEST(KconfigUnknownSymbols, ParsesKconfigWarnings) {
  auto names = unknown_symbols(
      "#\n.config:2371:warning: unknown symbol: MAP_NOZERO\n"
      ".config:12:warning: unknown symbol: FOO_BAR\nother line\n");
  EXPECT_EQ(names, (std::set<std::string>{"CONFIG_MAP_NOZERO", "CONFIG_FOO_BAR"}));
}

TEST(KconfigCheck, AcceptsSurvivingOptions) {
  auto fragment = parse_config("CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_C=16\n");
  std::map<std::string, std::string> resolved{{"CONFIG_A", "y"}, {"CONFIG_C", "16"}};
  auto check = check_config(fragment, resolved, {}, true);
  EXPECT_TRUE(check.dropped.empty());
  EXPECT_TRUE(check.series_only.empty());
}

TEST(KconfigCheck, NamesDroppedOptions) {
  auto fragment = parse_config("CONFIG_A=y\nCONFIG_B=y\nCONFIG_C=16\n");
  std::map<std::string, std::string> resolved{{"CONFIG_A", "y"}, {"CONFIG_C", "8"}};
  auto check = check_config(fragment, resolved, {"CONFIG_B"}, true);
  ASSERT_EQ(check.dropped.size(), 2u);
  EXPECT_EQ(check.dropped[0].name, "CONFIG_B");
  EXPECT_EQ(check.dropped[0].actual, "n");
  EXPECT_TRUE(check.dropped[0].unknown_symbol);
  EXPECT_EQ(check.dropped[1].name, "CONFIG_C");
  EXPECT_EQ(check.dropped[1].actual, "8");

  std::string text = describe_dropped(check.dropped);
  EXPECT_NE(text.find("CONFIG_B=y (now not set; Kconfig does not know this symbol)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("CONFIG_C=16 (now =8; a dependency is missing"), std::string::npos) << text;
}

TEST(KconfigCheck, UnpatchedBuildMayLackSeriesOptions) {
  auto fragment = parse_config("CONFIG_A=y\n# MAP_NOZERO series\nCONFIG_MAP_NOZERO=y\n");
  std::map<std::string, std::string> resolved{{"CONFIG_A", "y"}};
  auto unpatched = check_config(fragment, resolved, {"CONFIG_MAP_NOZERO"}, false);
  EXPECT_TRUE(unpatched.dropped.empty());
  EXPECT_EQ(unpatched.series_only, std::vector<std::string>{"CONFIG_MAP_NOZERO"});

  auto patched = check_config(fragment, resolved, {"CONFIG_MAP_NOZERO"}, true);
  ASSERT_EQ(patched.dropped.size(), 1u);
  EXPECT_EQ(patched.dropped[0].name, "CONFIG_MAP_NOZERO");
}

TEST(KconfigCheck, UnpatchedBuildKeepsKnownSeriesOptions) {
  // A series-section option the unpatched tree knows must survive there too.
  auto fragment = parse_config("# MAP_NOZERO series\nCONFIG_PAGE_EXTENSION=y\n");
  auto check = check_config(fragment, {}, {}, false);
  ASSERT_EQ(check.dropped.size(), 1u);
  EXPECT_EQ(check.dropped[0].name, "CONFIG_PAGE_EXTENSION");
}

TEST(KconfigCheck, OptionsOutsideSeriesSectionAlwaysChecked) {
  auto fragment = parse_config("CONFIG_TYPO=y\n");
  auto check = check_config(fragment, {}, {"CONFIG_TYPO"}, false);
  ASSERT_EQ(check.dropped.size(), 1u);
  EXPECT_TRUE(check.dropped[0].unknown_symbol);
}

}  // namespace
}  // namespace nozero::kernel

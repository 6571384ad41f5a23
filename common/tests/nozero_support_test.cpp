#include "nozero/nozero_support.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

#include "testing/run_program.h"

namespace nozero {
namespace {

using testing::TemporaryDirectory;

// A probe whose sysctl is a file in a temporary directory and whose prctl is a fake
// that counts its calls.
struct FakeKernel {
  TemporaryDirectory dir;
  int prctl_calls = 0;
  PrctlResult prctl_result{0, 0};

  SupportProbe probe(const std::string& sysctl_contents, bool sysctl_exists = true) {
    SupportProbe probe;
    probe.sysctl_path = dir.path() + "/nozero";
    if (sysctl_exists) std::ofstream(probe.sysctl_path) << sysctl_contents;
    probe.get_nozero = [this] {
      ++prctl_calls;
      return prctl_result;
    };
    probe.kernel_release = [] { return std::string("6.18.0-test"); };
    return probe;
  }
};

TEST(NozeroSupport, MissingSysctlIsNotSupported) {
  FakeKernel kernel;
  NozeroSupport support = detect_nozero_support(kernel.probe("", false));
  EXPECT_EQ(support.support, KernelSupport::not_supported);
  EXPECT_EQ(support.sysctl, std::nullopt);
  EXPECT_NE(support.detail.find("not found"), std::string::npos) << support.detail;
  EXPECT_NE(support.detail.find("6.18.0-test"), std::string::npos) << support.detail;
}

TEST(NozeroSupport, NoPrctlWithoutSysctl) {
  // On kernels without the series the prctl option may mean something else.
  FakeKernel kernel;
  detect_nozero_support(kernel.probe("", false));
  EXPECT_EQ(kernel.prctl_calls, 0);
}

TEST(NozeroSupport, EnabledSysctlAndPrctlIsSupported) {
  FakeKernel kernel;
  NozeroSupport support = detect_nozero_support(kernel.probe("1\n"));
  EXPECT_EQ(support.support, KernelSupport::supported);
  EXPECT_EQ(support.sysctl, std::optional<long>(1));
  EXPECT_EQ(support.prctl_value, std::optional<long>(0));
  EXPECT_EQ(kernel.prctl_calls, 1);
  EXPECT_EQ(support.detail, kernel.dir.path() + "/nozero=1, PR_GET_NOZERO=0");
}

TEST(NozeroSupport, ZeroSysctlIsDisabled) {
  FakeKernel kernel;
  kernel.prctl_result = {1, 0};
  NozeroSupport support = detect_nozero_support(kernel.probe("0\n"));
  EXPECT_EQ(support.support, KernelSupport::disabled);
  EXPECT_EQ(support.sysctl, std::optional<long>(0));
  EXPECT_EQ(support.prctl_value, std::optional<long>(1));
}

TEST(NozeroSupport, FailingPrctlIsNotSupported) {
  FakeKernel kernel;
  kernel.prctl_result = {-1, EINVAL};
  NozeroSupport support = detect_nozero_support(kernel.probe("1\n"));
  EXPECT_EQ(support.support, KernelSupport::not_supported);
  EXPECT_NE(support.detail.find("PR_GET_NOZERO failed"), std::string::npos) << support.detail;
}

TEST(NozeroSupport, GarbledSysctlIsNotSupported) {
  FakeKernel kernel;
  NozeroSupport support = detect_nozero_support(kernel.probe("yes\n"));
  EXPECT_EQ(support.support, KernelSupport::not_supported);
  EXPECT_EQ(kernel.prctl_calls, 0);
  EXPECT_NE(support.detail.find("not an integer"), std::string::npos) << support.detail;
}

TEST(NozeroSupport, MatchesRunningKernel) {
  NozeroSupport support = detect_nozero_support();
  bool has_sysctl = std::filesystem::exists(uapi::kSysctlPath);
  if (!has_sysctl) {
    EXPECT_EQ(support.support, KernelSupport::not_supported);
    EXPECT_NE(support.detail.find(uapi::kSysctlPath), std::string::npos) << support.detail;
  } else {
    EXPECT_NE(support.support, KernelSupport::not_supported) << support.detail;
  }
}

TEST(NozeroSupport, JsonBlockFollowsSchema) {
  NozeroSupport support;
  support.support = KernelSupport::disabled;
  support.detail = "d";
  support.sysctl = 0;
  nlohmann::ordered_json block = to_json(support, true);
  EXPECT_EQ(block["requested"], true);
  EXPECT_EQ(block["kernel_support"], "disabled");
  EXPECT_EQ(block["detail"], "d");
  EXPECT_EQ(block["sysctl"], 0);

  block = to_json(NozeroSupport{}, false);
  EXPECT_EQ(block["kernel_support"], "not-supported");
  EXPECT_TRUE(block["sysctl"].is_null());
}

TEST(NozeroSupport, WarningOnlyWhenPagesStayCleared) {
  NozeroSupport support;
  support.support = KernelSupport::supported;
  EXPECT_EQ(unsupported_warning(support), "");
  support.support = KernelSupport::disabled;
  EXPECT_NE(unsupported_warning(support).find("sysctl vm.nozero=1"), std::string::npos);
  support.support = KernelSupport::not_supported;
  EXPECT_NE(unsupported_warning(support).find("does not support"), std::string::npos);
}

}  // namespace
}  // namespace nozero

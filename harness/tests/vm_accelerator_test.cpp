// Accelerator choice: requested accelerators, the probe cache and the firmware
// probe under TCG (real QEMU, about a second).
#include <gtest/gtest.h>

#include "core/files.h"
#include "vm/accelerator.h"

namespace nozero::vm {
namespace {

TEST(AcceleratorChoice, RequestedAcceleratorTakenAsGiven) {
  TempDirectory directory("nozero-accel-test");
  VmConfig config;
  auto tcg = choose_accelerator(Accelerator::tcg, config, directory.path() / "probe.json");
  EXPECT_EQ(tcg.accelerator, Accelerator::tcg);
  EXPECT_EQ(tcg.reason, "requested with --accel tcg");
  auto kvm = choose_accelerator(Accelerator::kvm, config, directory.path() / "probe.json");
  EXPECT_EQ(kvm.accelerator, Accelerator::kvm);
  EXPECT_EQ(kvm.reason, "requested with --accel kvm");
  EXPECT_FALSE(std::filesystem::exists(directory.path() / "probe.json"));
}

TEST(ProbeCache, RoundTripsForSameHost) {
  TempDirectory directory("nozero-accel-test");
  auto file = directory.path() / "sub" / "probe.json";
  ProbeResult result{false, "a KVM probe boot failed", 0.1, ProbeKind::kernel_boot};
  write_probe_cache(file, "host-a", result);

  auto cached = read_probe_cache(file, "host-a");
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->accelerator, Accelerator::tcg);
  EXPECT_EQ(cached->reason, "a KVM probe boot failed");
  EXPECT_EQ(cached->kind, ProbeKind::kernel_boot);
  EXPECT_TRUE(cached->from_cache);
  EXPECT_FALSE(cached->probed_at.empty());
}

TEST(ProbeCache, OtherHostOrCorruptFileIgnored) {
  TempDirectory directory("nozero-accel-test");
  auto file = directory.path() / "probe.json";
  write_probe_cache(file, "host-a", {true, "ok", 0.5, ProbeKind::firmware});
  EXPECT_FALSE(read_probe_cache(file, "host-b"));
  write_file_atomic(file, "{broken");
  EXPECT_FALSE(read_probe_cache(file, "host-a"));
  EXPECT_FALSE(read_probe_cache(directory.path() / "missing.json", "host-a"));
}

TEST(ProbeHostIdentity, NamesBootKernelAndQemu) {
  auto identity = probe_host_identity("qemu-system-x86_64");
  EXPECT_NE(identity.find("boot "), std::string::npos) << identity;
  EXPECT_NE(identity.find("kernel "), std::string::npos) << identity;
  EXPECT_NE(identity.find("QEMU emulator version"), std::string::npos) << identity;
  EXPECT_NE(probe_host_identity("nozero-no-such-qemu").find("not installed"), std::string::npos);
}

TEST(FirmwareProbe, SucceedsUnderTcg) {
  auto result = probe_firmware_boot("qemu-system-x86_64", Accelerator::tcg,
                                    std::chrono::seconds{30});
  EXPECT_TRUE(result.usable) << result.reason;
  EXPECT_NE(result.reason.find("TCG probe guest got through its firmware"), std::string::npos)
      << result.reason;
  EXPECT_EQ(result.kind, ProbeKind::firmware);
}

TEST(FirmwareProbe, TimesOutQuickly) {
  auto result = probe_firmware_boot("qemu-system-x86_64", Accelerator::tcg,
                                    std::chrono::milliseconds{1});
  EXPECT_FALSE(result.usable);
  EXPECT_NE(result.reason.find("did not get through its firmware within 0.0 s"),
            std::string::npos)
      << result.reason;
  EXPECT_LT(result.seconds, 5.0);
}

TEST(FirmwareProbe, MissingQemuThrows) {
  EXPECT_ANY_THROW(probe_firmware_boot("nozero-no-such-qemu", Accelerator::tcg,
                                       std::chrono::seconds{1}));
}

}  // namespace
}  // namespace nozero::vm

// Reading, hashing and applying the patch series, on small trees made here.
#include <gtest/gtest.h>

#include <filesystem>

#include "core/errors.h"
#include "core/files.h"
#include "kernel/series.h"

namespace nozero::kernel {
namespace {

namespace fs = std::filesystem;

// A patch in `git format-patch` form that changes line "two" of hello.txt.
const char* kGoodPatch =
    "From 1111111111111111111111111111111111111111 Mon Sep 17 00:00:00 2001\n"
    "From: Test <test@example.com>\n"
    "Subject: [PATCH] change two\n"
    "\n"
    "---\n"
    " hello.txt | 2 +-\n"
    "\n"
    "diff --git a/hello.txt b/hello.txt\n"
    "--- a/hello.txt\n"
    "+++ b/hello.txt\n"
    "@@ -1,3 +1,3 @@\n"
    " one\n"
    "-two\n"
    "+TWO\n"
    " three\n"
    "-- \n"
    "2.39.5\n";

// Expects a line the tree does not have.
const char* kBadPatch =
    "Subject: [PATCH] change four\n"
    "---\n"
    "diff --git a/hello.txt b/hello.txt\n"
    "--- a/hello.txt\n"
    "+++ b/hello.txt\n"
    "@@ -1,3 +1,3 @@\n"
    " one\n"
    "-four\n"
    "+FOUR\n"
    " three\n";

class SeriesTest : public ::testing::Test {
 protected:
  TempDirectory directory_{"nozero-series-test"};
  fs::path patches_ = directory_.path() / "patches";
  fs::path tree_ = directory_.path() / "tree";

  void SetUp() override {
    fs::create_directories(patches_);
    write_file_atomic(tree_ / "hello.txt", "one\ntwo\nthree\n");
  }
};

TEST_F(SeriesTest, MissingSeriesFileMeansNoPatches) {
  auto series = read_series(patches_);
  EXPECT_TRUE(series.patches.empty());
  EXPECT_TRUE(series.hash.starts_with("sha256:"));
}

TEST_F(SeriesTest, EmptySeriesEqualsMissingSeries) {
  auto missing = read_series(patches_);
  write_file_atomic(patches_ / "series", "# only a comment\n\n");
  auto empty = read_series(patches_);
  EXPECT_TRUE(empty.patches.empty());
  EXPECT_EQ(empty.hash, missing.hash);
}

TEST_F(SeriesTest, ReadsPatchesInOrderWithStripLevel) {
  write_file_atomic(patches_ / "0001-a.patch", kGoodPatch);
  write_file_atomic(patches_ / "0002-b.patch", kGoodPatch);
  write_file_atomic(patches_ / "series", "0001-a.patch\n# comment\n0002-b.patch -p0  # trailing\n");
  auto series = read_series(patches_);
  ASSERT_EQ(series.patches.size(), 2u);
  EXPECT_EQ(series.patches[0].name, "0001-a.patch");
  EXPECT_EQ(series.patches[0].strip, 1);
  EXPECT_EQ(series.patches[1].name, "0002-b.patch");
  EXPECT_EQ(series.patches[1].strip, 0);
}

TEST_F(SeriesTest, HashFollowsPatchContents) {
  write_file_atomic(patches_ / "0001-a.patch", kGoodPatch);
  write_file_atomic(patches_ / "series", "0001-a.patch\n");
  auto before = read_series(patches_).hash;
  EXPECT_EQ(read_series(patches_).hash, before);
  write_file_atomic(patches_ / "0001-a.patch", std::string{kGoodPatch} + "\n");
  EXPECT_NE(read_series(patches_).hash, before);
}

TEST_F(SeriesTest, MissingPatchFileNamesSeriesLine) {
  write_file_atomic(patches_ / "series", "# header\n0001-missing.patch\n");
  try {
    read_series(patches_);
    FAIL() << "expected CommandError";
  } catch (const CommandError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("series:2"), std::string::npos) << message;
    EXPECT_NE(message.find("0001-missing.patch does not exist"), std::string::npos) << message;
  }
}

TEST_F(SeriesTest, RejectsUnknownSeriesOption) {
  write_file_atomic(patches_ / "0001-a.patch", kGoodPatch);
  write_file_atomic(patches_ / "series", "0001-a.patch -R\n");
  EXPECT_THROW(read_series(patches_), CommandError);
}

TEST_F(SeriesTest, AppliesPatches) {
  write_file_atomic(patches_ / "0001-a.patch", kGoodPatch);
  write_file_atomic(patches_ / "series", "0001-a.patch\n");
  apply_series(read_series(patches_), tree_);
  EXPECT_EQ(read_file(tree_ / "hello.txt"), "one\nTWO\nthree\n");
}

TEST_F(SeriesTest, FailingPatchNamedWithRejectedHunk) {
  write_file_atomic(patches_ / "0001-a.patch", kGoodPatch);
  write_file_atomic(patches_ / "0002-bad.patch", kBadPatch);
  write_file_atomic(patches_ / "series", "0001-a.patch\n0002-bad.patch\n");
  try {
    apply_series(read_series(patches_), tree_);
    FAIL() << "expected CommandError";
  } catch (const CommandError& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("patch 0002-bad.patch (2 of 2"), std::string::npos) << message;
    EXPECT_NE(message.find("does not apply"), std::string::npos) << message;
    EXPECT_NE(message.find("rejected hunks (hello.txt.rej)"), std::string::npos) << message;
    EXPECT_NE(message.find("-four"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace nozero::kernel

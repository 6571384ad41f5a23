// The kernel patch series: a directory of `git format-patch` files and a quilt-style
// `series` file listing them in order.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace nozero::kernel {

struct Patch {
  std::string name;             // as listed in `series`
  std::filesystem::path path;
  int strip = 1;                // the -pN of the series line (quilt's default is 1)
};

struct Series {
  std::filesystem::path directory;
  std::vector<Patch> patches;
  // "sha256:<hex>" over the names, strip levels and contents in order; the same
  // value for every empty series.
  std::string hash;
};

// Reads DIR/series. A missing or empty series file (comments and blank lines only)
// yields no patches. Throws CommandError naming the series line of a patch file
// that does not exist.
Series read_series(const std::filesystem::path& directory);

// Applies each patch in order with patch(1) and no fuzz, as `git am` would accept
// it. On the first failure throws CommandError naming the patch, its position,
// patch(1)'s output and the rejected hunks.
void apply_series(const Series& series, const std::filesystem::path& source_tree);

}  // namespace nozero::kernel

#include "kernel/series.h"

#include <regex>
#include <sstream>

#include "core/errors.h"
#include "core/files.h"
#include "core/hash.h"
#include "core/process.h"

namespace nozero::kernel {
namespace {

constexpr size_t kMaxRejectLines = 80;

// Keeps the first `max_lines` lines of `text`, noting how many were cut.
std::string head_lines(const std::string& text, size_t max_lines) {
  std::istringstream lines{text};
  std::string kept;
  size_t count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    if (count < max_lines) kept += line + "\n";
  }
  if (count > max_lines) kept += "[" + std::to_string(count - max_lines) + " more lines]\n";
  return kept;
}

}  // namespace

Series read_series(const std::filesystem::path& directory) {
  Series series;
  series.directory = directory;
  auto series_file = directory / "series";

  Sha256 digest;
  digest.update("nozero-bench series v1\n");
  if (std::filesystem::exists(series_file)) {
    std::istringstream lines{read_file(series_file)};
    int line_number = 0;
    for (std::string line; std::getline(lines, line);) {
      ++line_number;
      if (auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
      std::istringstream words{line};
      Patch patch;
      if (!(words >> patch.name)) continue;
      for (std::string option; words >> option;) {
        if (std::regex_match(option, std::regex{"-p[0-9]"})) {
          patch.strip = option[2] - '0';
        } else {
          throw CommandError(series_file.string() + ":" + std::to_string(line_number) +
                             ": unsupported option '" + option + "' (only -pN is accepted)");
        }
      }
      patch.path = directory / patch.name;
      if (!std::filesystem::is_regular_file(patch.path))
        throw CommandError(series_file.string() + ":" + std::to_string(line_number) +
                           ": patch file " + patch.path.string() + " does not exist");
      digest.update(patch.name + "\n-p" + std::to_string(patch.strip) + "\n");
      digest.update(sha256_file(patch.path) + "\n");
      series.patches.push_back(patch);
    }
  }
  series.hash = "sha256:" + digest.digest_hex();
  return series;
}

void apply_series(const Series& series, const std::filesystem::path& source_tree) {
  size_t position = 0;
  for (const auto& patch : series.patches) {
    ++position;
    auto result = run_process({"patch", "-p" + std::to_string(patch.strip), "--forward", "--batch",
                               "--fuzz=0", "--no-backup-if-mismatch", "-d", source_tree.string(),
                               "-i", std::filesystem::absolute(patch.path).string()});
    if (result.exit_status == 0) continue;

    std::string output = result.stdout_text + result.stderr_text;
    std::string message = "patch " + patch.name + " (" + std::to_string(position) + " of " +
                          std::to_string(series.patches.size()) + " in " +
                          (series.directory / "series").string() + ") does not apply to " +
                          source_tree.string() + ":\n" + head_lines(output, 40);

    // patch(1) names each reject file: "saving rejects to file mm/memory.c.rej".
    static const std::regex kRejectFile{R"(saving rejects to file (\S+))"};
    for (std::sregex_iterator it{output.begin(), output.end(), kRejectFile}, end; it != end; ++it) {
      auto reject = source_tree / (*it)[1].str();
      if (!std::filesystem::exists(reject)) continue;
      message += "rejected hunks (" + (*it)[1].str() + "):\n" +
                 head_lines(read_file(reject), kMaxRejectLines);
    }
    throw CommandError(message);
  }
}

}  // namespace nozero::kernel

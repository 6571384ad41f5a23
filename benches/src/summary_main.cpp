// nzbench-summary: derived numbers from the JSON output of nzbench-fault and
// nzbench-clear, as text on stdout and optionally as a JSON document.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <fstream>
#include <iostream>

#include "summary.h"

int main(int argc, char** argv) {
  CLI::App app{"Summarise the JSON output of nzbench-fault and nzbench-clear: the share of a page fault "
               "that clearing costs, the physical limit and the MAP_NOZERO speed-up."};
  std::vector<std::string> inputs;
  std::string json_path;
  app.add_option("files", inputs, "Google Benchmark JSON files (--benchmark_out) of one machine and kernel")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--json", json_path, "Also write the summary as JSON to this file ('-' for stdout)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int status = app.exit(error);
    return status == 0 ? 0 : 2;
  }

  nlohmann::ordered_json summary;
  try {
    std::vector<nozero::benches::BenchmarkFile> files;
    for (const std::string& path : inputs) {
      files.push_back(nozero::benches::load_benchmark_file(path));
    }
    summary = nozero::benches::summarise(files);
  } catch (const nozero::benches::InputError& error) {
    std::cerr << "nzbench-summary: " << error.what() << "\n";
    return 2;
  }

  if (json_path == "-") {
    std::cout << summary.dump(2) << "\n";
    return 0;
  }
  std::cout << nozero::benches::format_summary(summary);
  if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << summary.dump(2) << "\n";
    if (!out) {
      std::cerr << "nzbench-summary: cannot write " << json_path << "\n";
      return 1;
    }
  }
  return 0;
}

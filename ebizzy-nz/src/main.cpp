// ebizzy-nz: ebizzy 0.3 (Valerie Henson) in C++, with -N for MAP_NOZERO buffers.
#include <cstdio>
#include <iostream>

#include "benchmark.h"
#include "nozero/exit_status.h"
#include "nozero/meminfo.h"
#include "nozero/nozero_support.h"
#include "nozero/result.h"
#include "options.h"

namespace {

// ebizzy 0.3's summary lines, which existing scripts parse.
void print_summary(const ebizzy::RunResult& result, std::ostream& out) {
  char line[128];
  std::snprintf(line, sizeof line, "%llu records/s\n", static_cast<unsigned long long>(result.records_per_s()));
  out << line;
  std::snprintf(line, sizeof line, "real %5.2f s\nuser %5.2f s\nsys  %5.2f s\n", result.elapsed_s,
                result.usage.utime_s, result.usage.stime_s);
  out << line;
}

nozero::WorkloadReport make_report(const ebizzy::Options& options, const nozero::NozeroSupport& support,
                                   const ebizzy::RunResult& result) {
  nozero::WorkloadReport report("ebizzy-nz");
  report.parameters() = ebizzy::to_json(options);
  report.set_nozero(support, options.nozero);
  report.add_metric("records_per_s", result.records_per_s(), "records/s", nozero::Better::higher);
  report.add_metric("records", static_cast<double>(result.records), "records", nozero::Better::higher);
  report.add_metric("elapsed_s", result.elapsed_s, "s", nozero::Better::lower);
  report.set_samples("records_per_s", result.interval_rates);
  report.set_rusage(result.usage, "this process (all threads) from the start gate until the threads joined");
  report.section("threads")["records"] = result.thread_records;

  nlohmann::ordered_json& search = report.section("search");
  search["performed"] = !options.touch_pages;
  search["missed_key"] = nullptr;
  if (result.miss) {
    search["missed_key"] = {{"thread", result.miss->thread},
                            {"chunk", result.miss->chunk},
                            {"key", result.miss->key},
                            {"copy_size", result.miss->copy_size}};
  }
  report.section("alternate_permissions")["mprotect_failures"] = result.protect_failures;
  return report;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "ebizzy-nz: ebizzy 0.3 in C++. Threads copy a random chunk into a new buffer, search the "
      "copy for a random key and free it; the score is records (iterations) per second. "
      "-N allocates the buffers with MAP_NOZERO."};
  nozero::cli::configure_app(app, "ebizzy-nz");
  ebizzy::Options options;
  ebizzy::add_options(app, options);

  return nozero::cli::run_program(app, argc, argv, [&] {
    std::ostream& text = nozero::cli::text_stream(options.json);
    ebizzy::validate(options, nozero::mem_available_bytes(), std::cerr);
    nozero::cli::validate_json_destination(options.json);

    nozero::NozeroSupport support = nozero::detect_nozero_support();
    if (options.nozero) {
      std::string warning = nozero::unsupported_warning(support);
      if (!warning.empty()) std::cerr << "ebizzy-nz: warning: " << warning << "\n";
    }

    ebizzy::RunResult result = ebizzy::run(options, text);
    print_summary(result, text);
    nozero::write_report(make_report(options, support, result), options.json);

    if (result.miss) {
      std::cerr << "ebizzy-nz: error: thread " << result.miss->thread << " did not find key " << result.miss->key
                << " in its copy of chunk " << result.miss->chunk << " (" << result.miss->copy_size
                << " bytes): the copy or the chunk was corrupted\n";
      return nozero::kExitCheckFailed;
    }
    return nozero::kExitOk;
  });
}

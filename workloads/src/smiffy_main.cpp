#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

#include "nozero/exit_status.h"
#include "nozero/meminfo.h"
#include "nozero/nozero_support.h"
#include "smiffy.h"

namespace {

volatile std::sig_atomic_t stop_signal = 0;

void request_stop(int signal_number) { stop_signal = signal_number; }

// SIGINT and SIGTERM end the scan after the current mapping, so the document is
// still written: the harness stops smiffy with SIGINT when a workload ends.
void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = request_stop;
  sigemptyset(&action.sa_mask);
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "smiffy: map anonymous pages (plain and MAP_NOZERO), fault each in and report every page that was not "
      "zero, with its address and first non-zero words. Exits 1 if it found any. Without -i or -S it runs until "
      "SIGINT or SIGTERM, then writes its document. Run it as a user that owns no other process: it must never "
      "see another user's data."};
  nozero::cli::configure_app(app, "smiffy");
  workloads::SmiffyOptions options;
  workloads::add_smiffy_options(app, options);

  return nozero::cli::run_program(app, argc, argv, [&] {
    bool mapping_given = app.get_option("--mapping")->count() > 0;
    workloads::resolve_smiffy_options(options, mapping_given, nozero::mem_available_bytes(), std::cerr);
    nozero::cli::validate_json_destination(options.json);
    std::ostream& text = nozero::cli::text_stream(options.json);
    nozero::NozeroSupport support = nozero::detect_nozero_support();
    bool nozero_requested = options.mapping != workloads::SmiffyMapping::plain;
    std::string warning = nozero::unsupported_warning(support);
    if (nozero_requested && !warning.empty()) std::cerr << "smiffy: warning: " << warning << "\n";

    install_stop_handlers();
    options.bound.stop_flag = &stop_signal;
    workloads::SmiffyResult result = workloads::run_smiffy(options, std::cerr);
    text << result.iterations << " iterations, " << result.pages_scanned << " pages scanned, "
         << result.nonzero_pages << " not zero\n";

    nozero::WorkloadReport report("smiffy");
    report.parameters() = {{"pages", options.pages},
                           {"bound", options.bound.to_json()},
                           {"mapping", workloads::to_string(options.mapping)},
                           {"max_reports", options.max_reports},
                           {"words", options.words},
                           {"page_size", nozero::page_size()}};
    report.set_nozero(support, nozero_requested);
    workloads::add_to_report(report, result, ::getuid());
    nozero::write_report(report, options.json);
    return result.nonzero_pages == 0 ? nozero::kExitOk : nozero::kExitCheckFailed;
  });
}

#include "reuse_program.h"

#include <iostream>
#include <system_error>

#include "nozero/exit_status.h"
#include "nozero/meminfo.h"
#include "nozero/nozero_support.h"
#include "nozero/result.h"

namespace workloads {
namespace {

constexpr std::uint64_t kMaxPages = 1ull << 32;

const char* program_name(ReuseProgram program) {
  return program == ReuseProgram::nzmmap_test ? "nzmmap-test" : "nzmalloc-test";
}

const char* program_description(ReuseProgram program) {
  return program == ReuseProgram::nzmmap_test
             ? "nzmmap-test: map N anonymous pages (MAP_NOZERO with -N), write word 0 of each, count the pages "
               "whose other words are not zero (reused without clearing), write a marker into each and unmap; "
               "repeat."
             : "nzmalloc-test: the nzmmap-test loop through malloc and free. -N switches on the process-wide "
               "MAP_NOZERO opt-in (prctl PR_SET_NOZERO) before the first allocation.";
}

// Switches on the process-wide opt-in for nzmalloc-test -N, or warns why pages
// will still be cleared.
void request_nozero(const char* program, const nozero::NozeroSupport& support, bool use_prctl) {
  std::string warning = nozero::unsupported_warning(support);
  if (!warning.empty()) std::cerr << program << ": warning: " << warning << "\n";
  if (!use_prctl || support.support == nozero::KernelSupport::not_supported) return;
  if (std::error_code error = nozero::request_process_nozero()) {
    throw std::system_error(error, "prctl(PR_SET_NOZERO, 1) failed");
  }
}

}  // namespace

void add_reuse_options(CLI::App& app, ReuseProgram program, ReuseOptions& options) {
  nozero::cli::add_count_option(app, "-p,--pages", options.pages, 1, kMaxPages, "Pages per iteration");
  add_bound_options(app, options.bound, kDefaultIterations);
  if (program == ReuseProgram::nzmmap_test) {
    app.add_flag("-N,--nozero", options.nozero, "Map with MAP_NOZERO");
  } else {
    app.add_flag("-N,--nozero", options.nozero,
                 "Switch on the process-wide MAP_NOZERO opt-in (prctl PR_SET_NOZERO) first");
    nozero::cli::add_count_option(app, "-b,--block-pages", options.block_pages, 1, kMaxPages,
                                  "Pages per malloc block (default: all pages in one block)")
        ->default_str("");
    nozero::cli::add_choice_option(
        app, "--malloc", options.malloc_mode,
        {{"default", MallocMode::glibc_default}, {"mmap", MallocMode::mmap}, {"brk", MallocMode::brk}},
        "glibc set-up: default; mmap (every block is its own mapping, unmapped by free); brk (no mmap, free "
        "trims the heap)");
  }
  app.add_flag("-v,--verbose", options.verbose, "Print the reused pages of every iteration");
  nozero::cli::add_json_option(app, options.json);
}

void resolve_reuse_options(ReuseProgram program, ReuseOptions& options, std::optional<std::uint64_t> mem_available,
                           std::ostream& warnings) {
  options.bound.resolve(kDefaultIterations);
  if (program == ReuseProgram::nzmalloc_test) {
    if (options.block_pages == 0) options.block_pages = options.pages;
    if (options.block_pages > options.pages) {
      throw nozero::cli::UsageError("-b,--block-pages: " + std::to_string(options.block_pages) +
                                    " is more than -p,--pages (" + std::to_string(options.pages) +
                                    "): accepted range: 1 to " + std::to_string(options.pages));
    }
  }
  nozero::cli::require_memory({"-p,--pages", options.pages, 1, nozero::page_size(), "pages of this size"},
                              mem_available, warnings);
}

int reuse_program_main(ReuseProgram program, int argc, char** argv) {
  CLI::App app{program_description(program)};
  nozero::cli::configure_app(app, program_name(program));
  ReuseOptions options;
  add_reuse_options(app, program, options);

  return nozero::cli::run_program(app, argc, argv, [&] {
    resolve_reuse_options(program, options, nozero::mem_available_bytes(), std::cerr);
    nozero::cli::validate_json_destination(options.json);
    std::ostream& text = nozero::cli::text_stream(options.json);
    nozero::NozeroSupport support = nozero::detect_nozero_support();
    if (options.nozero) request_nozero(program_name(program), support, program == ReuseProgram::nzmalloc_test);

    nozero::WorkloadReport report(program_name(program));
    nlohmann::ordered_json& parameters = report.parameters();
    parameters["pages"] = options.pages;
    parameters["bound"] = options.bound.to_json();
    parameters["nozero"] = options.nozero;
    parameters["page_size"] = nozero::page_size();

    ReuseResult result;
    if (program == ReuseProgram::nzmmap_test) {
      MmapPageSource source(options.pages, options.nozero);
      result = run_reuse_loop(options.bound, source, options.verbose, text);
    } else {
      parameters["block_pages"] = options.block_pages;
      parameters["malloc"] = to_string(options.malloc_mode);
      configure_malloc(options.malloc_mode);
      MallocPageSource source(options.pages, options.block_pages);
      result = run_reuse_loop(options.bound, source, options.verbose, text);
    }

    print_summary(result, text);
    report.set_nozero(support, options.nozero);
    add_to_report(report, result);
    nozero::write_report(report, options.json);
    return nozero::kExitOk;
  });
}

}  // namespace workloads

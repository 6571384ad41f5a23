#include "smiffy.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "nozero/meminfo.h"
#include "nozero/uapi.h"

namespace workloads {
namespace {

constexpr std::uint64_t kMaxPages = 1ull << 32;

std::string hex(std::uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%016llx", static_cast<unsigned long long>(value));
  return text;
}

// smiffy's own marker, distinct from the one nzmmap-test and nzmalloc-test
// write ("SMIFFYMK" in ASCII): word 1 the magic, word 2 the real uid, word 3 the
// pid. Any smiffy process of the same user may find it again.
constexpr std::uint64_t kSmiffyMagic = 0x534d49464659'4d4bull;

void write_smiffy_marker(char* page, std::uint64_t uid, std::uint64_t pid) {
  auto* words = reinterpret_cast<std::uint64_t*>(page);
  words[1] = kSmiffyMagic;
  words[2] = uid;
  words[3] = pid;
}

// Returns true when the page contains a smiffy marker of this user and nothing
// else after word 0, which the scan writes.
bool holds_only_own_users_marker(const char* page, std::size_t page_size, std::uint64_t uid) {
  const auto* words = reinterpret_cast<const std::uint64_t*>(page);
  if (words[1] != kSmiffyMagic || words[2] != uid) return false;
  for (std::size_t i = 4; i < page_size / sizeof(std::uint64_t); ++i) {
    if (words[i] != 0) return false;
  }
  return true;
}

void print_leak(const Leak& leak, std::ostream& log) {
  log << "smiffy: non-zero page at " << hex(leak.address) << " (" << (leak.nozero_mapping ? "MAP_NOZERO" : "plain")
      << " mapping, iteration " << leak.iteration << "):";
  for (const NonzeroWord& word : leak.words) log << " +" << word.offset << "=" << hex(word.value);
  log << "\n";
}

}  // namespace

const char* to_string(SmiffyMapping mapping) {
  switch (mapping) {
    case SmiffyMapping::plain:
      return "plain";
    case SmiffyMapping::nozero:
      return "nozero";
    case SmiffyMapping::both:
      return "both";
  }
  return "both";
}

void add_smiffy_options(CLI::App& app, SmiffyOptions& options) {
  nozero::cli::add_count_option(app, "-p,--pages", options.pages, 1, kMaxPages, "Pages per mapping");
  add_bound_options(app, options.bound, kSmiffyDefaultIterations);
  nozero::cli::add_choice_option(
      app, "--mapping", options.mapping,
      {{"plain", SmiffyMapping::plain}, {"nozero", SmiffyMapping::nozero}, {"both", SmiffyMapping::both}},
      "Mappings scanned per iteration: plain, nozero (MAP_NOZERO) or both (one of each)");
  app.add_flag("-N,--nozero", options.nozero_only, "Scan only MAP_NOZERO mappings (--mapping=nozero)");
  nozero::cli::add_count_option(app, "--max-reports", options.max_reports, 0, 1u << 20,
                                "Non-zero pages printed and listed in the result; all are counted");
  nozero::cli::add_count_option(app, "--words", options.words, 1, 512, "Non-zero words reported per page");
  nozero::cli::add_json_option(app, options.json);
}

void resolve_smiffy_options(SmiffyOptions& options, bool mapping_given, std::optional<std::uint64_t> mem_available,
                            std::ostream& warnings) {
  nozero::cli::reject_combination(options.nozero_only, "-N,--nozero", mapping_given, "--mapping",
                                  "-N is short for --mapping=nozero, so give one of them");
  if (options.nozero_only) options.mapping = SmiffyMapping::nozero;
  options.bound.resolve(kSmiffyDefaultIterations);
  // Both mappings of an iteration are scanned one after the other, never held together.
  nozero::cli::require_memory({"-p,--pages", options.pages, 1, nozero::page_size(), "pages of this size"},
                              mem_available, warnings);
}

void scan_pages(const SmiffyOptions& options, const std::vector<char*>& pages, bool nozero_mapping,
                std::uint64_t iteration, SmiffyResult& result, std::ostream& log) {
  std::size_t page_size = nozero::page_size();
  const std::uint64_t pid = static_cast<std::uint64_t>(::getpid());
  const std::uint64_t uid = static_cast<std::uint64_t>(::getuid());
  std::uint64_t found = 0;
  for (char* page : pages) {
    ++result.pages_scanned;
    if (nozero_mapping) ++result.nozero_pages_scanned;
    bool nonzero = fault_and_check_reused(page, page_size);
    if (nonzero && nozero_mapping && holds_only_own_users_marker(page, page_size, uid)) {
      ++result.own_reused_pages;
    } else if (nonzero) {
      ++found;
      ++result.nonzero_pages;
      if (result.leaks.size() < options.max_reports) {
        Leak leak{iteration, nozero_mapping, reinterpret_cast<std::uintptr_t>(page),
                  first_nonzero_words(page, page_size, options.words)};
        print_leak(leak, log);
        result.leaks.push_back(std::move(leak));
      }
    }
    // After the check, so a report shows what the page held.
    if (nozero_mapping) write_smiffy_marker(page, uid, pid);
  }
  if (result.nonzero_per_iteration.size() <= iteration) result.nonzero_per_iteration.resize(iteration + 1, 0);
  result.nonzero_per_iteration[iteration] += static_cast<double>(found);
}

void scan_mapping(const SmiffyOptions& options, bool nozero_mapping, std::uint64_t iteration, SmiffyResult& result,
                  std::ostream& log) {
  std::size_t page_size = nozero::page_size();
  std::size_t length = options.pages * page_size;
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | (nozero_mapping ? nozero::uapi::kMapNozero : 0);
  void* mapping = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, flags, -1, 0);
  if (mapping == MAP_FAILED) {
    throw std::system_error(errno, std::generic_category(), "mmap of " + std::to_string(length) + " bytes failed");
  }
  scan_pages(options, whole_pages(mapping, length, page_size), nozero_mapping, iteration, result, log);
  ::munmap(mapping, length);
}

SmiffyResult run_smiffy(const SmiffyOptions& options, std::ostream& log) {
  SmiffyResult result;
  nozero::ResourceUsage usage_start = nozero::capture_rusage(RUSAGE_SELF);
  nozero::Stopwatch clock;
  while (options.bound.allows(result.iterations, clock)) {
    if (options.mapping != SmiffyMapping::nozero) scan_mapping(options, false, result.iterations, result, log);
    if (options.mapping != SmiffyMapping::plain) scan_mapping(options, true, result.iterations, result, log);
    ++result.iterations;
    if (options.bound.allows(result.iterations, clock)) pause_between_iterations(options.bound);
  }
  result.elapsed_s = clock.elapsed_s();
  result.usage = nozero::usage_between(usage_start, nozero::capture_rusage(RUSAGE_SELF));
  if (options.bound.stop_requested()) result.stopped_by = "signal";
  return result;
}

void add_to_report(nozero::WorkloadReport& report, const SmiffyResult& result, std::uint64_t uid) {
  using nozero::Better;
  report.add_metric("pages_scanned", static_cast<double>(result.pages_scanned), "pages", Better::higher);
  report.add_metric("nonzero_pages", static_cast<double>(result.nonzero_pages), "pages", Better::lower);
  report.add_metric("own_reused_pages", static_cast<double>(result.own_reused_pages), "pages", Better::higher);
  report.add_metric("iterations", static_cast<double>(result.iterations), "iterations", Better::higher);
  report.add_metric("elapsed_s", result.elapsed_s, "s", Better::lower);
  report.set_samples("nonzero_pages", result.nonzero_per_iteration);
  report.set_rusage(result.usage, "this process, the scan loop");

  nlohmann::ordered_json& leaks = report.section("leaks");
  leaks["uid"] = uid;
  leaks["pages_scanned"] = result.pages_scanned;
  leaks["nonzero_pages"] = result.nonzero_pages;
  leaks["nozero_pages_scanned"] = result.nozero_pages_scanned;
  leaks["own_reused_pages"] = result.own_reused_pages;
  nlohmann::ordered_json reported = nlohmann::ordered_json::array();
  for (const Leak& leak : result.leaks) {
    nlohmann::ordered_json words = nlohmann::ordered_json::array();
    for (const NonzeroWord& word : leak.words) words.push_back({{"offset", word.offset}, {"value", hex(word.value)}});
    reported.push_back({{"iteration", leak.iteration},
                        {"mapping", leak.nozero_mapping ? "nozero" : "plain"},
                        {"address", hex(leak.address)},
                        {"nonzero_words", words}});
  }
  leaks["reported"] = reported;
  leaks["not_reported"] = result.nonzero_pages - result.leaks.size();
  leaks["stopped_by"] = result.stopped_by;
}

}  // namespace workloads

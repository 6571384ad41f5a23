// Command-line conventions shared by the workload programs (CLI11): option checks
// that name the option and the accepted range, --json[=FILE], and one main loop
// that turns every usage error into exit status 2.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

namespace nozero::cli {

// A bad command line. run_program() prints it and exits with kExitUsage.
class UsageError : public CLI::ValidationError {
 public:
  explicit UsageError(std::string message) : CLI::ValidationError(std::move(message)) {}
};

// Parse `text` as a decimal integer in [min, max]. Throws UsageError naming
// `option` (for example "-t,--threads") and the range.
std::int64_t parse_integer(std::string_view text, std::string_view option, std::int64_t min,
                           std::int64_t max);

// Parse a byte count in [min, max]: digits with an optional binary suffix K, M, G or
// T (case-insensitive, optionally followed by "iB" or "B"), e.g. "512K" = 524288.
std::uint64_t parse_size(std::string_view text, std::string_view option, std::uint64_t min,
                         std::uint64_t max);

// Parse a decimal number of seconds in [min, max], e.g. "2.5".
double parse_seconds(std::string_view text, std::string_view option, double min, double max);

// Options that parse through the functions above when CLI11 reads them, so a
// negative, zero or malformed value fails before the program starts. The help text
// shows the current value of `target` as the default and the accepted range.
CLI::Option* add_count_option(CLI::App& app, const std::string& name, std::uint64_t& target,
                              std::uint64_t min, std::uint64_t max, const std::string& description);
CLI::Option* add_size_option(CLI::App& app, const std::string& name, std::uint64_t& target,
                             std::uint64_t min, std::uint64_t max, const std::string& description);
CLI::Option* add_seconds_option(CLI::App& app, const std::string& name, double& target, double min,
                                double max, const std::string& description);

// An option whose value is one of `choices` (name, value pairs). Any other value
// throws UsageError listing the accepted names. The help text shows them.
template <typename Value>
CLI::Option* add_choice_option(CLI::App& app, const std::string& name, Value& target,
                               std::vector<std::pair<std::string, Value>> choices, const std::string& description) {
  std::string names;
  std::string current;
  for (const auto& [choice, value] : choices) {
    names += (names.empty() ? "" : ", ") + choice;
    if (value == target) current = choice;
  }
  auto* option = app.add_option_function<std::string>(
      name,
      [&target, name, names, choices](const std::string& text) {
        for (const auto& [choice, value] : choices) {
          if (choice == text) {
            target = value;
            return;
          }
        }
        throw UsageError(name + ": \"" + text + "\" is not valid: expected one of " + names);
      },
      description + " [" + names + "]");
  option->default_str(current)->type_name("NAME");
  return option;
}

// The destination of the result document: none, stdout ("--json") or a file
// ("--json=FILE").
struct JsonDestination {
  bool enabled = false;
  std::string path;  // "-" for stdout

  bool to_stdout() const { return enabled && (path.empty() || path == "-"); }
};

// --json[=FILE]. The value must be attached with "=", so "--json" never swallows
// the next argument.
CLI::Option* add_json_option(CLI::App& app, JsonDestination& destination);

// Throws UsageError when --json=FILE names a file in a directory that does not
// exist or is not writable, so a long run does not end in a write error.
void validate_json_destination(const JsonDestination& destination);

// The stream for human-readable output: stderr when the JSON document goes to
// stdout, so stdout stays parseable, and stdout otherwise.
std::ostream& text_stream(const JsonDestination& destination);

// Throws UsageError when both options were given, e.g. "-m,--always-mmap and
// -M,--never-mmap cannot be combined: <fix>".
void reject_combination(bool first_given, std::string_view first, bool second_given,
                        std::string_view second, std::string_view fix);

// A request for `value` units of `option`, each costing `bytes_per_unit` bytes
// (for ebizzy-nz's -s, one unit is one byte of every chunk and copy buffer).
struct MemoryRequest {
  std::string option;
  std::uint64_t value = 0;
  std::uint64_t min = 1;
  std::uint64_t bytes_per_unit = 1;
  // The use of the memory, e.g. "10 chunks and 2 copy buffers of this size".
  std::string purpose;
};

// Throws UsageError when the request exceeds `available` bytes, naming the option,
// the memory needed and the accepted range. When `available` is nullopt (no
// MemAvailable), writes a warning to `warnings` and accepts the request.
void require_memory(const MemoryRequest& request, std::optional<std::uint64_t> available,
                    std::ostream& warnings);

// Sets the help formatter, --version and the footer that lists the exit statuses.
void configure_app(CLI::App& app, const std::string& program);

// Parses the command line and runs `body`, whose return value becomes the exit
// status. --help and --version exit 0; parse and usage errors print
// "<program>: error: <message>" and exit kExitUsage; any other exception prints
// the same form and exits kExitRunFailed.
int run_program(CLI::App& app, int argc, char** argv, const std::function<int()>& body);

}  // namespace nozero::cli

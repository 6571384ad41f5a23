#include "nozero/cli.h"

#include <unistd.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <exception>
#include <filesystem>
#include <iostream>
#include <limits>
#include <sstream>

#include "nozero/exit_status.h"
#include "nozero/meminfo.h"
#include "nozero/result.h"

namespace nozero::cli {
namespace {

std::string quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

std::string integer_range(std::int64_t min, std::int64_t max) {
  return "expected an integer from " + std::to_string(min) + " to " + std::to_string(max);
}

std::string size_range(std::uint64_t min, std::uint64_t max) {
  return "expected a size in bytes from " + std::to_string(min) + " to " + std::to_string(max) +
         " (suffixes K, M, G, T multiply by powers of 1024)";
}

std::string seconds_text(double seconds) {
  std::ostringstream text;
  text << seconds;
  return text.str();
}

std::string seconds_range(double min, double max) {
  return "expected a number of seconds from " + seconds_text(min) + " to " + seconds_text(max);
}

// Binary multiplier of a size suffix ("", "K", "KiB", "kb", ...), or 0 when invalid.
std::uint64_t suffix_multiplier(std::string_view suffix) {
  if (suffix.empty()) return 1;
  std::string lower;
  for (char c : suffix) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view unit = lower;
  if (unit.size() > 1 && (unit.substr(1) == "ib" || unit.substr(1) == "b")) unit = unit.substr(0, 1);
  if (unit == "k") return 1ull << 10;
  if (unit == "m") return 1ull << 20;
  if (unit == "g") return 1ull << 30;
  if (unit == "t") return 1ull << 40;
  return 0;
}

// Formats the help's "[range]" note.
std::string range_note(const std::string& range) { return " [" + range + "]"; }

class HelpFormatter : public CLI::Formatter {
 public:
  // Hides the "{-}" default-value syntax of flags such as "--json{-}".
  std::string make_option_name(const CLI::Option* option, bool is_positional) const override {
    std::string name = CLI::Formatter::make_option_name(option, is_positional);
    std::size_t brace = name.find('{');
    while (brace != std::string::npos) {
      std::size_t close = name.find('}', brace);
      if (close == std::string::npos) break;
      name.erase(brace, close - brace + 1);
      brace = name.find('{');
    }
    return name;
  }
};

void print_error(const std::string& program, const std::string& message, bool usage_hint) {
  std::cerr << program << ": error: " << message << "\n";
  if (usage_hint) std::cerr << "Run " << program << " --help for the accepted options.\n";
}

}  // namespace

std::int64_t parse_integer(std::string_view text, std::string_view option, std::int64_t min,
                           std::int64_t max) {
  std::int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error == std::errc::invalid_argument || end != text.data() + text.size()) {
    throw UsageError(std::string(option) + ": " + quoted(text) + " is not an integer: " +
                     integer_range(min, max));
  }
  if (error == std::errc::result_out_of_range || value < min || value > max) {
    throw UsageError(std::string(option) + ": " + std::string(text) + " is out of range: " +
                     integer_range(min, max));
  }
  return value;
}

std::uint64_t parse_size(std::string_view text, std::string_view option, std::uint64_t min,
                         std::uint64_t max) {
  std::string_view digits = text;
  bool negative = !digits.empty() && digits.front() == '-';
  std::uint64_t number = 0;
  auto [end, error] = std::from_chars(digits.data() + (negative ? 1 : 0), digits.data() + digits.size(), number);
  std::size_t consumed = static_cast<std::size_t>(end - digits.data());
  bool has_digits = consumed > (negative ? 1u : 0u);
  std::uint64_t multiplier = suffix_multiplier(text.substr(consumed));
  if (!has_digits || error == std::errc::invalid_argument || multiplier == 0) {
    throw UsageError(std::string(option) + ": " + quoted(text) + " is not a size: " + size_range(min, max));
  }
  bool overflow = error == std::errc::result_out_of_range ||
                  number > std::numeric_limits<std::uint64_t>::max() / multiplier;
  if (negative || overflow || number * multiplier < min || number * multiplier > max) {
    throw UsageError(std::string(option) + ": " + std::string(text) + " is out of range: " +
                     size_range(min, max));
  }
  return number * multiplier;
}

double parse_seconds(std::string_view text, std::string_view option, double min, double max) {
  double value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error == std::errc::invalid_argument || end != text.data() + text.size() ||
      !std::isfinite(value)) {
    throw UsageError(std::string(option) + ": " + quoted(text) + " is not a number: " +
                     seconds_range(min, max));
  }
  if (error == std::errc::result_out_of_range || value < min || value > max) {
    throw UsageError(std::string(option) + ": " + std::string(text) + " is out of range: " +
                     seconds_range(min, max));
  }
  return value;
}

CLI::Option* add_count_option(CLI::App& app, const std::string& name, std::uint64_t& target,
                              std::uint64_t min, std::uint64_t max, const std::string& description) {
  auto to_signed = [](std::uint64_t value) {
    return static_cast<std::int64_t>(std::min<std::uint64_t>(value, std::numeric_limits<std::int64_t>::max()));
  };
  std::int64_t low = to_signed(min);
  std::int64_t high = to_signed(max);
  auto* option = app.add_option_function<std::string>(
      name,
      [&target, name, low, high](const std::string& text) {
        target = static_cast<std::uint64_t>(parse_integer(text, name, low, high));
      },
      description + range_note(std::to_string(min) + " to " + std::to_string(max)));
  option->default_str(std::to_string(target))->type_name("N");
  return option;
}

CLI::Option* add_size_option(CLI::App& app, const std::string& name, std::uint64_t& target,
                             std::uint64_t min, std::uint64_t max, const std::string& description) {
  auto* option = app.add_option_function<std::string>(
      name, [&target, name, min, max](const std::string& text) { target = parse_size(text, name, min, max); },
      description + range_note(std::to_string(min) + " to " + std::to_string(max) +
                               " bytes, suffixes K, M, G, T"));
  option->default_str(std::to_string(target))->type_name("BYTES");
  return option;
}

CLI::Option* add_seconds_option(CLI::App& app, const std::string& name, double& target, double min,
                                double max, const std::string& description) {
  auto* option = app.add_option_function<std::string>(
      name, [&target, name, min, max](const std::string& text) { target = parse_seconds(text, name, min, max); },
      description + range_note(seconds_text(min) + " to " + seconds_text(max) + " s"));
  option->default_str(seconds_text(target))->type_name("SECONDS");
  return option;
}

CLI::Option* add_json_option(CLI::App& app, JsonDestination& destination) {
  // A flag with a default value: a bare "--json" stores "-", "--json=FILE" stores FILE.
  auto* option = app.add_flag(
      "--json{-}", destination.path,
      "Write the nozero-bench/workload result document to stdout, or atomically to FILE with "
      "--json=FILE. With the document on stdout, the text summary goes to stderr");
  option->each([&destination](const std::string&) { destination.enabled = true; });
  option->option_text("[=FILE]");
  return option;
}

void validate_json_destination(const JsonDestination& destination) {
  if (!destination.enabled || destination.to_stdout()) return;
  std::filesystem::path path(destination.path);
  std::filesystem::path directory = path.parent_path().empty() ? "." : path.parent_path();
  std::error_code error;
  if (!std::filesystem::is_directory(directory, error)) {
    throw UsageError("--json: directory " + directory.string() + " of " + destination.path +
                     " does not exist: create it or choose another FILE");
  }
  if (::access(directory.c_str(), W_OK) != 0) {
    throw UsageError("--json: directory " + directory.string() + " of " + destination.path +
                     " is not writable: choose another FILE");
  }
}

std::ostream& text_stream(const JsonDestination& destination) {
  return destination.to_stdout() ? std::cerr : std::cout;
}

void reject_combination(bool first_given, std::string_view first, bool second_given,
                        std::string_view second, std::string_view fix) {
  if (first_given && second_given) {
    throw UsageError(std::string(first) + " and " + std::string(second) + " cannot be combined: " +
                     std::string(fix));
  }
}

void require_memory(const MemoryRequest& request, std::optional<std::uint64_t> available,
                    std::ostream& warnings) {
  std::uint64_t per_unit = std::max<std::uint64_t>(request.bytes_per_unit, 1);
  if (!available) {
    warnings << "warning: " << request.option
             << ": /proc/meminfo has no MemAvailable, so the memory the run needs was not checked\n";
    return;
  }
  bool overflow = request.value > std::numeric_limits<std::uint64_t>::max() / per_unit;
  std::uint64_t needed = overflow ? std::numeric_limits<std::uint64_t>::max() : request.value * per_unit;
  if (needed <= *available) return;

  std::uint64_t max_value = *available / per_unit;
  std::string needed_text = overflow ? std::string("more than 16 EiB") : format_bytes(needed);
  std::string range = max_value < request.min
                          ? "none fits, because even " + std::to_string(request.min) + " needs " +
                                format_bytes(request.min * per_unit)
                          : std::to_string(request.min) + " to " + std::to_string(max_value);
  throw UsageError(request.option + ": " + std::to_string(request.value) + " needs " + needed_text +
                   " of memory (" + request.purpose + "), more than MemAvailable (" +
                   format_bytes(*available) + "); accepted range: " + range);
}

void configure_app(CLI::App& app, const std::string& program) {
  app.name(program);
  app.formatter(std::make_shared<HelpFormatter>());
  app.set_version_flag("--version", program + " " + std::string(program_version()));
  app.footer(
      "Exit status: 0 success, 1 the check failed, 2 invalid command line, 3 the run failed.");
}

int run_program(CLI::App& app, int argc, char** argv, const std::function<int()>& body) {
  const std::string program = app.get_name();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    print_error(program, e.what(), true);
    return kExitUsage;
  }

  try {
    return body();
  } catch (const UsageError& e) {
    print_error(program, e.what(), true);
    return kExitUsage;
  } catch (const std::exception& e) {
    print_error(program, e.what(), false);
    return kExitRunFailed;
  }
}

}  // namespace nozero::cli

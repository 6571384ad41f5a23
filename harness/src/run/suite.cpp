#include "run/suite.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "core/errors.h"
#include "core/hash.h"
#include "run/programs.h"

namespace nozero::run {

std::string_view to_string(Arm arm) {
  switch (arm) {
    case Arm::baseline:
      return "baseline";
    case Arm::nozero:
      return "nozero";
    case Arm::unpatched:
      return "unpatched";
  }
  return "?";
}

std::optional<Arm> parse_arm(std::string_view name) {
  for (Arm arm : {Arm::baseline, Arm::nozero, Arm::unpatched}) {
    if (to_string(arm) == name) return arm;
  }
  return std::nullopt;
}

const Program* find_program(std::string_view name) {
  for (const Program& program : kPrograms) {
    if (program.name == name) return &program;
  }
  return nullptr;
}

bool Suite::uses_arm(Arm arm) const {
  return std::any_of(workloads.begin(), workloads.end(), [arm](const Workload& workload) {
    return std::find(workload.arms.begin(), workload.arms.end(), arm) != workload.arms.end();
  });
}

const Workload* Suite::find_workload(std::string_view workload_name) const {
  for (const Workload& workload : workloads) {
    if (workload.name == workload_name) return &workload;
  }
  return nullptr;
}

namespace {

std::string join(const std::vector<std::string>& items) {
  std::string joined;
  for (const std::string& item : items) {
    if (!joined.empty()) joined += ", ";
    joined += item;
  }
  return joined;
}

template <typename Range>
std::vector<std::string> to_strings(const Range& range) {
  std::vector<std::string> strings;
  for (const auto& item : range) strings.emplace_back(item);
  return strings;
}

// Reads the keys of one TOML table, checking types and ranges, and rejects keys the
// table does not define. Every error starts with "FILE:LINE:COLUMN:".
class TableReader {
 public:
  TableReader(const toml::table& table, std::string source, std::string table_name,
              std::vector<std::string> accepted_keys)
      : table_(table),
        source_(std::move(source)),
        table_name_(std::move(table_name)),
        accepted_(std::move(accepted_keys)) {
    for (const auto& [key, node] : table_) {
      if (std::find(accepted_.begin(), accepted_.end(), key.str()) == accepted_.end()) {
        fail(key.source(), "unknown key '" + std::string{key.str()} + "' in " + table_name_ +
                               "; accepted keys: " + join(accepted_));
      }
    }
  }

  [[noreturn]] void fail(const toml::source_region& where, const std::string& message) const {
    throw CommandError(location(where) + ": " + message);
  }

  std::string location(const toml::source_region& where) const {
    return source_ + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column);
  }

  const toml::node* node(std::string_view key) const { return table_.get(key); }

  bool has(std::string_view key) const { return node(key) != nullptr; }

  std::int64_t table_line() const { return table_.source().begin.line; }

  std::string string(std::string_view key, std::string fallback,
                     const std::vector<std::string>& accepted = {}) const {
    const toml::node* value = node(key);
    if (!value) return fallback;
    const auto* text = value->as_string();
    if (!text) fail(value->source(), describe(key) + " must be a string");
    const std::string& result = text->get();
    if (!accepted.empty() && std::find(accepted.begin(), accepted.end(), result) == accepted.end()) {
      fail(value->source(), "invalid " + describe(key) + " '" + result + "'; accepted values: " +
                                join(accepted));
    }
    return result;
  }

  std::string required_string(std::string_view key, const std::vector<std::string>& accepted = {}) const {
    if (!has(key)) {
      fail(table_.source(), table_name_ + " has no '" + std::string{key} + "'" +
                                (accepted.empty() ? "" : "; accepted values: " + join(accepted)));
    }
    return string(key, "", accepted);
  }

  std::int64_t integer(std::string_view key, std::int64_t fallback, std::int64_t minimum,
                       std::int64_t maximum) const {
    const toml::node* value = node(key);
    if (!value) return fallback;
    const auto* number = value->as_integer();
    if (!number) fail(value->source(), describe(key) + " must be an integer");
    std::int64_t result = number->get();
    if (result < minimum || result > maximum) {
      fail(value->source(), "invalid " + describe(key) + " " + std::to_string(result) +
                                "; accepted values: " + std::to_string(minimum) + " to " +
                                std::to_string(maximum));
    }
    return result;
  }

  double floating(std::string_view key, double fallback, double minimum, double maximum) const {
    const toml::node* value = node(key);
    if (!value) return fallback;
    double result = 0;
    if (const auto* number = value->as_floating_point()) {
      result = number->get();
    } else if (const auto* whole = value->as_integer()) {
      result = static_cast<double>(whole->get());
    } else {
      fail(value->source(), describe(key) + " must be a number");
    }
    if (!(result >= minimum && result <= maximum)) {
      std::ostringstream range;
      range << minimum << " to " << maximum;
      fail(value->source(), "invalid " + describe(key) + " " + std::to_string(result) +
                                "; accepted values: " + range.str());
    }
    return result;
  }

  bool boolean(std::string_view key, bool fallback) const {
    const toml::node* value = node(key);
    if (!value) return fallback;
    const auto* flag = value->as_boolean();
    if (!flag) fail(value->source(), describe(key) + " must be true or false");
    return flag->get();
  }

  std::vector<std::string> strings(std::string_view key, std::vector<std::string> fallback,
                                   const std::vector<std::string>& accepted = {}) const {
    const toml::node* value = node(key);
    if (!value) return fallback;
    const auto* array = value->as_array();
    if (!array) fail(value->source(), describe(key) + " must be an array of strings");
    std::vector<std::string> result;
    for (const toml::node& element : *array) {
      const auto* text = element.as_string();
      if (!text) fail(element.source(), describe(key) + " must contain only strings");
      if (!accepted.empty() && std::find(accepted.begin(), accepted.end(), text->get()) == accepted.end()) {
        fail(element.source(), "invalid value '" + text->get() + "' in " + describe(key) +
                                   "; accepted values: " + join(accepted));
      }
      result.push_back(text->get());
    }
    return result;
  }

  std::string describe(std::string_view key) const {
    return "'" + std::string{key} + "' in " + table_name_;
  }

 private:
  const toml::table& table_;
  std::string source_;
  std::string table_name_;
  std::vector<std::string> accepted_;
};

const std::vector<std::string> kArmNames = {"baseline", "nozero", "unpatched"};

std::vector<std::string> program_names() {
  std::vector<std::string> names;
  for (const Program& program : kPrograms) names.emplace_back(program.name);
  return names;
}

std::vector<std::string> thp_modes() { return to_strings(kThpModes); }

std::vector<Arm> parse_arms(const TableReader& reader, std::vector<std::string> fallback) {
  std::vector<std::string> names = reader.strings("arms", std::move(fallback), kArmNames);
  if (names.empty()) reader.fail(reader.node("arms")->source(), reader.describe("arms") + " is empty");
  std::vector<Arm> arms;
  for (const std::string& name : names) {
    Arm arm = *parse_arm(name);
    if (std::find(arms.begin(), arms.end(), arm) != arms.end()) {
      reader.fail(reader.node("arms")->source(), reader.describe("arms") + " lists '" + name + "' twice");
    }
    arms.push_back(arm);
  }
  return arms;
}

struct SuiteDefaults {
  std::vector<std::string> arms;
  unsigned repetitions = 0;
  unsigned warmups = 0;
  unsigned timeout_s = 0;
};

// A workload name becomes a directory and a command-line value.
bool is_valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
  });
}

Workload parse_workload(const toml::table& table, const std::string& source, const Suite& suite,
                        const SuiteDefaults& defaults) {
  TableReader reader(table, source, "[[workload]]",
                     {"name", "program", "args", "command", "nozero", "tree", "jobs", "arms", "repetitions",
                      "warmups", "thp", "timeout_s", "metric", "leak_check"});
  Workload workload;
  workload.line = reader.table_line();
  workload.name = reader.required_string("name");
  if (!is_valid_name(workload.name)) {
    reader.fail(reader.node("name")->source(),
                "invalid workload name '" + workload.name +
                    "'; use 1 to 64 characters from a-z, 0-9, '-', '_' and '.'");
  }
  workload.program = reader.required_string("program", program_names());
  const Program& program = *find_program(workload.program);

  workload.args = reader.strings("args", {});
  workload.command = reader.strings("command", {});
  if (workload.program == "command") {
    if (workload.command.empty()) {
      reader.fail(table.source(), "workload '" + workload.name +
                                      "' uses program \"command\" and needs a non-empty 'command' array");
    }
  } else if (reader.has("command")) {
    reader.fail(reader.node("command")->source(),
                "'command' is only for program \"command\"; give program options in 'args'");
  }

  const bool has_flag = !program.binary.empty();
  workload.nozero = reader.string("nozero", program.nozero == NozeroRequest::flag ? "flag" : "exec",
                                  has_flag ? std::vector<std::string>{"flag", "exec"}
                                           : std::vector<std::string>{"exec"});

  if (workload.program == "make") {
    workload.tree = reader.string("tree", "linux-tools", {"linux-tools"});
    workload.jobs = static_cast<unsigned>(reader.integer("jobs", suite.vm.cpus, 1, 256));
  } else {
    for (const char* key : {"tree", "jobs"}) {
      if (reader.has(key)) {
        reader.fail(reader.node(key)->source(), "'" + std::string{key} + "' is only for program \"make\"");
      }
    }
  }

  workload.arms = parse_arms(reader, defaults.arms);
  workload.repetitions = static_cast<unsigned>(reader.integer("repetitions", defaults.repetitions, 1, 1000));
  workload.warmups = static_cast<unsigned>(reader.integer("warmups", defaults.warmups, 0, 100));
  workload.thp = reader.string("thp", suite.vm.thp, thp_modes());
  workload.timeout_s = static_cast<unsigned>(reader.integer("timeout_s", defaults.timeout_s, 1, 86400));
  workload.metric = reader.string("metric", std::string{program.default_metric});
  workload.leak_check = reader.boolean("leak_check", suite.leak_check.enabled);
  return workload;
}

Benchmark parse_benchmark(const toml::table& table, const std::string& source) {
  TableReader reader(table, source, "[[benchmark]]",
                     {"name", "binary", "args", "min_time_s", "on_host", "in_guest", "timeout_s"});
  Benchmark benchmark;
  benchmark.binary = reader.required_string("binary");
  if (benchmark.binary.find('/') != std::string::npos) {
    reader.fail(reader.node("binary")->source(),
                "'binary' is a file name in the build's bin directory, not a path: '" +
                    benchmark.binary + "'");
  }
  benchmark.name = reader.string("name", benchmark.binary);
  if (!is_valid_name(benchmark.name)) {
    reader.fail(table.source(), "invalid benchmark name '" + benchmark.name +
                                    "'; use 1 to 64 characters from a-z, 0-9, '-', '_' and '.'");
  }
  benchmark.args = reader.strings("args", {});
  benchmark.min_time_s = reader.floating("min_time_s", 0.05, 0.001, 60);
  benchmark.on_host = reader.boolean("on_host", true);
  benchmark.in_guest = reader.boolean("in_guest", true);
  benchmark.timeout_s = static_cast<unsigned>(reader.integer("timeout_s", 120, 1, 86400));
  return benchmark;
}

const toml::table* sub_table(const toml::table& root, std::string_view key, const std::string& source) {
  const toml::node* node = root.get(key);
  if (!node) return nullptr;
  const toml::table* table = node->as_table();
  if (!table) {
    throw CommandError(source + ":" + std::to_string(node->source().begin.line) + ": '" +
                       std::string{key} + "' must be a table, written [" + std::string{key} + "]");
  }
  return table;
}

const toml::array* table_array(const toml::table& root, std::string_view key, const std::string& source) {
  const toml::node* node = root.get(key);
  if (!node) return nullptr;
  const toml::array* array = node->as_array();
  if (!array || !array->is_array_of_tables()) {
    throw CommandError(source + ":" + std::to_string(node->source().begin.line) + ": '" +
                       std::string{key} + "' must be an array of tables, written [[" +
                       std::string{key} + "]]");
  }
  return array;
}

}  // namespace

Suite parse_suite(std::string_view text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(text, source_name);
  } catch (const toml::parse_error& error) {
    const auto& where = error.source().begin;
    throw CommandError(source_name + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) +
                       ": invalid TOML: " + std::string{error.description()});
  }
  TableReader top(root, source_name, "the suite", {"suite", "vm", "host", "leak_check", "workload", "benchmark"});

  Suite suite;
  suite.text = std::string{text};
  suite.sha256 = sha256_hex(text);

  SuiteDefaults defaults;
  defaults.arms = {"baseline", "nozero"};
  defaults.repetitions = 3;
  defaults.warmups = 1;
  defaults.timeout_s = 300;
  const toml::table empty;

  const toml::table* suite_table = sub_table(root, "suite", source_name);
  {
    TableReader reader(suite_table ? *suite_table : empty, source_name, "[suite]",
                       {"name", "description", "arms", "repetitions", "warmups", "seed",
                        "runs_per_boot", "workload_uid", "timeout_s", "profile"});
    suite.name = reader.string("name", "");
    suite.description = reader.string("description", "");
    if (reader.has("arms")) parse_arms(reader, {});
    defaults.arms = reader.strings("arms", defaults.arms, kArmNames);
    defaults.repetitions = static_cast<unsigned>(reader.integer("repetitions", 3, 1, 1000));
    defaults.warmups = static_cast<unsigned>(reader.integer("warmups", 1, 0, 100));
    defaults.timeout_s = static_cast<unsigned>(reader.integer("timeout_s", 300, 1, 86400));
    if (reader.has("seed")) {
      suite.seed = static_cast<std::uint64_t>(
          reader.integer("seed", 0, 0, std::numeric_limits<std::int64_t>::max()));
    }
    suite.runs_per_boot = static_cast<unsigned>(reader.integer("runs_per_boot", 0, 0, 100000));
    suite.workload_uid = static_cast<unsigned>(reader.integer("workload_uid", 1000, 1, 65533));
    suite.profile = reader.boolean("profile", true);
  }

  const toml::table* vm_table = sub_table(root, "vm", source_name);
  {
    TableReader reader(vm_table ? *vm_table : empty, source_name, "[vm]", {"cpus", "memory_mib", "thp"});
    suite.vm.cpus = static_cast<unsigned>(reader.integer("cpus", 2, 1, 64));
    suite.vm.memory_mib = static_cast<std::uint64_t>(reader.integer("memory_mib", 2048, 256, 1048576));
    suite.vm.thp = reader.string("thp", "madvise", thp_modes());
  }

  const toml::table* host_table = sub_table(root, "host", source_name);
  {
    TableReader reader(host_table ? *host_table : empty, source_name, "[host]", {"repetitions", "warmups"});
    suite.host.repetitions = static_cast<unsigned>(reader.integer("repetitions", 1, 0, 1000));
    suite.host.warmups = static_cast<unsigned>(reader.integer("warmups", 1, 0, 100));
  }

  const toml::table* leak_table = sub_table(root, "leak_check", source_name);
  {
    TableReader reader(leak_table ? *leak_table : empty, source_name, "[leak_check]",
                       {"enabled", "uid", "args"});
    suite.leak_check.enabled = reader.boolean("enabled", true);
    suite.leak_check.uid = static_cast<unsigned>(reader.integer("uid", 1001, 1, 65533));
    suite.leak_check.args = reader.strings("args", {});
    if (suite.leak_check.uid == suite.workload_uid) {
      reader.fail(reader.has("uid") ? reader.node("uid")->source() : root.source(),
                  "the leak checker's uid " + std::to_string(suite.leak_check.uid) +
                      " equals workload_uid: smiffy must run as a user that owns no other page");
    }
  }

  const toml::array* workloads = table_array(root, "workload", source_name);
  if (!workloads || workloads->empty()) {
    throw CommandError(source_name + ": the suite has no [[workload]] table; add at least one");
  }
  std::set<std::string> names;
  for (const toml::node& node : *workloads) {
    Workload workload = parse_workload(*node.as_table(), source_name, suite, defaults);
    if (!names.insert(workload.name).second) {
      throw CommandError(source_name + ":" + std::to_string(workload.line) + ": workload name '" +
                         workload.name + "' is used twice; names must be unique");
    }
    suite.workloads.push_back(std::move(workload));
  }

  if (const toml::array* benchmarks = table_array(root, "benchmark", source_name)) {
    std::set<std::string> benchmark_names;
    for (const toml::node& node : *benchmarks) {
      Benchmark benchmark = parse_benchmark(*node.as_table(), source_name);
      if (!benchmark_names.insert(benchmark.name).second) {
        throw CommandError(source_name + ":" + std::to_string(node.source().begin.line) +
                           ": benchmark name '" + benchmark.name + "' is used twice; names must be unique");
      }
      suite.benchmarks.push_back(std::move(benchmark));
    }
  }
  return suite;
}

Suite load_suite(const std::string& name_or_path) {
  for (const BuiltinSuite& builtin : builtin_suites()) {
    if (builtin.name == name_or_path) {
      Suite suite = parse_suite(builtin.text, "built-in suite " + std::string{builtin.name});
      if (suite.name.empty()) suite.name = std::string{builtin.name};
      return suite;
    }
  }

  std::filesystem::path path{name_or_path};
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::vector<std::string> names;
    for (const BuiltinSuite& builtin : builtin_suites()) names.emplace_back(builtin.name);
    throw CommandError("suite '" + name_or_path + "' is neither a built-in suite (" + join(names) +
                       ") nor a readable file");
  }
  std::ostringstream text;
  text << file.rdbuf();
  Suite suite = parse_suite(text.str(), path.string());
  suite.path = std::filesystem::absolute(path);
  if (suite.name.empty()) suite.name = path.stem().string();
  return suite;
}

}  // namespace nozero::run

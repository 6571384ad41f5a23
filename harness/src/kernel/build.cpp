#include "kernel/build.h"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <thread>

#include "core/errors.h"
#include "core/files.h"
#include "core/hash.h"
#include "core/process.h"
#include "kernel/kconfig.h"

namespace nozero::kernel {
namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;

// Bump when the way a kernel is configured or built changes, so older cache
// entries stop matching.
constexpr int kRecipeVersion = 1;
constexpr const char* kMetadataSchema = "nozero-bench/kernel-build";
// An extracted 6.12 tree is about 1.7 GiB and a tinyconfig build adds about 0.4 GiB.
constexpr std::uint64_t kRequiredFreeBytes = 3ull << 30;

void report(const BuildOptions& options, const std::string& line) {
  if (options.progress) options.progress(line);
  else std::cerr << "kernel build: " << line << "\n" << std::flush;
}

// "6.12.57" from the VERSION, PATCHLEVEL, SUBLEVEL and EXTRAVERSION lines of a
// kernel's top-level Makefile.
std::string makefile_version(const fs::path& tree) {
  auto makefile = tree / "Makefile";
  if (!fs::exists(makefile))
    throw CommandError(tree.string() + " is not a kernel source tree: it has no Makefile");
  std::map<std::string, std::string> fields;
  std::istringstream lines{read_file(makefile)};
  static const std::regex kField{R"(^(VERSION|PATCHLEVEL|SUBLEVEL|EXTRAVERSION)\s*=\s*(\S*)\s*$)"};
  for (std::string line; std::getline(lines, line) && fields.size() < 4;) {
    std::smatch match;
    if (std::regex_match(line, match, kField)) fields[match[1]] = match[2];
  }
  if (!fields.contains("VERSION") || !fields.contains("PATCHLEVEL"))
    throw CommandError(makefile.string() + " has no VERSION and PATCHLEVEL lines: not a kernel tree");
  return fields["VERSION"] + "." + fields["PATCHLEVEL"] + "." + fields["SUBLEVEL"] +
         fields["EXTRAVERSION"];
}

std::string compiler_identity() {
  auto result = run_process({"gcc", "--version"});
  if (result.exit_status != 0)
    throw CommandError("`gcc --version` failed: " + result.stderr_text +
                       "; install build-essential (scripts/install-deps)");
  return result.stdout_text.substr(0, result.stdout_text.find('\n'));
}

std::string localversion(bool patched) { return patched ? "-nozero" : "-unpatched"; }

// Counts compiled objects in make's output and prints a status line every
// 15 s (every second, rewritten in place, when stderr is a terminal).
class MakeProgress {
 public:
  MakeProgress(const BuildOptions& options, std::ofstream& log, const fs::path& tree)
      : options_(options), log_(log), tree_prefix_(tree.string() + "/"), started_(Clock::now()),
        last_print_(started_), terminal_(!options.progress && ::isatty(STDERR_FILENO) == 1) {}

  void feed(std::string_view chunk) {
    log_.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    pending_.append(chunk);
    for (auto newline = pending_.find('\n'); newline != std::string::npos;
         newline = pending_.find('\n')) {
      std::string line = pending_.substr(0, newline);
      pending_.erase(0, newline + 1);
      if (line.starts_with("  CC ") || line.starts_with("  AS ")) {
        ++objects_;
        last_object_ = line.substr(line.find_last_of(' ') + 1);
        // Host tools such as objtool are named by absolute path.
        if (last_object_.starts_with(tree_prefix_)) last_object_.erase(0, tree_prefix_.size());
      }
    }
    auto now = Clock::now();
    auto interval = terminal_ ? std::chrono::seconds{1} : std::chrono::seconds{15};
    if (now - last_print_ >= interval) {
      last_print_ = now;
      print(now);
    }
  }

  void finish() {
    if (terminal_) std::cerr << "\n";
  }

  int objects() const { return objects_; }

 private:
  void print(Clock::time_point now) {
    double elapsed = std::chrono::duration<double>(now - started_).count();
    std::string line = "compiling: " + std::to_string(objects_) + " files compiled, " +
                       format_duration(elapsed) + " (last " + last_object_ + ")";
    if (terminal_) std::cerr << "\rkernel build: " << line << "\033[K" << std::flush;
    else report(options_, line);
  }

  const BuildOptions& options_;
  std::ofstream& log_;
  std::string tree_prefix_;
  Clock::time_point started_;
  Clock::time_point last_print_;
  bool terminal_;
  std::string pending_;
  std::string last_object_ = "-";
  int objects_ = 0;
};

// Last `count` lines of a file, for error messages.
std::string tail_lines(const fs::path& path, size_t count) {
  std::ifstream input(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(input, line);) {
    lines.push_back(line);
    if (lines.size() > count) lines.erase(lines.begin());
  }
  std::string text;
  for (const auto& line : lines) text += "  " + line + "\n";
  return text;
}

void check_free_space(const fs::path& directory) {
  struct statvfs stats {};
  if (::statvfs(directory.c_str(), &stats) != 0) return;
  std::uint64_t free_bytes = static_cast<std::uint64_t>(stats.f_bavail) * stats.f_frsize;
  if (free_bytes < kRequiredFreeBytes)
    throw CommandError("kernel build needs about 3 GiB free in " + directory.string() + ", found " +
                           std::to_string(free_bytes >> 20) +
                           " MiB; free space or pass --cache-dir on a larger file system",
                       kExitFailure);
}

// Runs one build step, appending its output to the log. Throws with the log's
// tail when it fails.
void run_step(const std::vector<std::string>& argv, const fs::path& cwd,
              const std::map<std::string, std::string>& env, std::ofstream& log,
              const fs::path& log_path, const std::string& step,
              const std::function<void(std::string_view)>& on_output = nullptr) {
  log << "$ " << shell_quote(argv) << "\n" << std::flush;
  RunOptions run;
  run.cwd = cwd;
  run.env = env;
  run.on_output = [&](std::string_view chunk) {
    if (on_output) on_output(chunk);
    else log.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
  };
  auto result = run_process(argv, run);
  log.flush();
  if (result.exit_status != 0)
    throw CommandError(step + " failed (exit status " + std::to_string(result.exit_status) +
                           "); last lines of " + log_path.string() + ":\n" +
                           tail_lines(log_path, 30),
                       kExitFailure);
}

void extract_source(const BuildInputs& inputs, const fs::path& tree, std::ofstream& log,
                    const fs::path& log_path) {
  fs::create_directories(tree);
  if (inputs.source_is_directory) {
    run_step({"cp", "-a", (inputs.source / ".").string(), tree.string()}, {}, {}, log, log_path,
             "copying " + inputs.source.string());
  } else {
    run_step({"tar", "-xf", inputs.source.string(), "-C", tree.string(), "--strip-components=1"},
             {}, {}, log, log_path, "extracting " + inputs.source.string());
  }
}

// tinyconfig, then the fragment, then olddefconfig; returns Kconfig's unknown symbols.
std::set<std::string> configure(const BuildInputs& inputs, const fs::path& tree,
                                const fs::path& fragment_copy, std::ofstream& log,
                                const fs::path& log_path) {
  std::map<std::string, std::string> env{{"KCONFIG_WARN_UNKNOWN_SYMBOLS", "1"}};
  run_step({"make", "tinyconfig"}, tree, env, log, log_path, "make tinyconfig");
  write_file_atomic(fragment_copy, inputs.config_text);
  run_step({"scripts/kconfig/merge_config.sh", "-m", "-O", ".", ".config", fragment_copy.string()},
           tree, env, log, log_path, "merge_config.sh " + inputs.config_fragment.string());

  std::string kconfig_output;
  run_step({"make", "olddefconfig"}, tree, env, log, log_path, "make olddefconfig",
           [&](std::string_view chunk) {
             kconfig_output.append(chunk);
             log.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
           });
  return unknown_symbols(kconfig_output);
}

KernelBuild to_build(const fs::path& directory, const nlohmann::json& metadata) {
  KernelBuild build;
  build.directory = directory;
  build.image = directory / metadata.at("image").get<std::string>();
  build.key = metadata.at("key").get<std::string>();
  build.release = metadata.at("release").get<std::string>();
  build.patched = metadata.at("patched").get<bool>();
  if (metadata.at("series").is_object())
    build.series_hash = metadata["series"].at("hash").get<std::string>();
  build.config_hash = metadata.at("config").at("hash").get<std::string>();
  build.built_at = metadata.at("built_at").get<std::string>();
  build.build_s = metadata.at("build_s").get<double>();
  build.metadata = metadata;
  return build;
}

}  // namespace

fs::path default_cache_dir() { return cache_root() / "kernels"; }

BuildInputs resolve_inputs(const BuildOptions& options) {
  BuildInputs inputs;

  inputs.source = fs::absolute(options.source);
  if (fs::is_directory(inputs.source)) {
    inputs.source_is_directory = true;
    // NOTE: edits inside a source directory do not change its identity; only the
    // path and the Makefile version do. Pass a tarball for a cache that tracks
    // content.
    inputs.source_id =
        "directory " + inputs.source.string() + " version " + makefile_version(inputs.source);
  } else if (fs::is_regular_file(inputs.source)) {
    inputs.source_id = "tarball sha256:" + sha256_file(inputs.source);
  } else {
    throw CommandError("kernel source " + inputs.source.string() +
                       " not found; install linux-source-6.12 (scripts/install-deps) or pass "
                       "--source TARBALL|DIR");
  }

  fs::path patches = options.patches_dir.empty()
                         ? source_root() / "kernel-patches" / "linux-6.12"
                         : options.patches_dir;
  if (options.apply_patches) {
    inputs.series = read_series(patches);
    inputs.patched = !inputs.series.patches.empty();
  } else {
    inputs.series.directory = patches;
  }

  inputs.config_fragment = options.config_fragment.empty()
                               ? source_root() / "kernel-patches" / "nozero.config"
                               : options.config_fragment;
  if (!fs::is_regular_file(inputs.config_fragment))
    throw CommandError("config fragment " + inputs.config_fragment.string() +
                       " not found; pass --config FRAGMENT");
  inputs.config_text = read_file(inputs.config_fragment);
  if (parse_config(inputs.config_text).empty())
    throw CommandError("config fragment " + inputs.config_fragment.string() +
                       " sets no CONFIG_ option; expected lines such as CONFIG_TMPFS=y");
  inputs.config_hash = "sha256:" + sha256_hex(inputs.config_text);

  inputs.compiler = compiler_identity();
  inputs.cache_dir = options.cache_dir.empty() ? default_cache_dir() : fs::absolute(options.cache_dir);
  inputs.key = compute_key(inputs);
  return inputs;
}

std::string compute_key(const BuildInputs& inputs) {
  std::ostringstream description;
  description << "recipe " << kRecipeVersion << "\n"
              << "source " << inputs.source_id << "\n"
              << "patched " << inputs.patched << "\n"
              << "series " << (inputs.patched ? inputs.series.hash : "none") << "\n"
              << "config " << inputs.config_hash << "\n"
              << "compiler " << inputs.compiler << "\n";
  return sha256_hex(description.str()).substr(0, 20);
}

std::optional<KernelBuild> load_build(const fs::path& directory) {
  auto metadata_path = directory / "metadata.json";
  if (!fs::is_regular_file(metadata_path)) return std::nullopt;
  try {
    auto metadata = nlohmann::json::parse(read_file(metadata_path));
    if (metadata.value("schema", "") != kMetadataSchema) return std::nullopt;
    auto build = to_build(directory, metadata);
    if (!fs::is_regular_file(build.image)) return std::nullopt;
    return build;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::vector<KernelBuild> list_builds(const fs::path& cache_dir) {
  std::vector<KernelBuild> builds;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(cache_dir, error)) {
    if (!entry.is_directory() || entry.path().extension() == ".work") continue;
    if (auto build = load_build(entry.path())) builds.push_back(*build);
  }
  std::sort(builds.begin(), builds.end(),
            [](const KernelBuild& a, const KernelBuild& b) { return a.built_at > b.built_at; });
  return builds;
}

std::optional<KernelBuild> newest_build(const fs::path& cache_dir, bool patched) {
  for (const auto& build : list_builds(cache_dir))
    if (build.patched == patched) return build;
  return std::nullopt;
}

std::optional<KernelBuild> find_build(const BuildOptions& options) {
  auto inputs = resolve_inputs(options);
  auto build = load_build(inputs.cache_dir / inputs.key);
  if (build) build->from_cache = true;
  return build;
}

KernelBuild build_kernel(const BuildOptions& options) {
  auto inputs = resolve_inputs(options);
  auto started = Clock::now();
  auto started_wall = std::chrono::system_clock::now();
  fs::create_directories(inputs.cache_dir);
  fs::path final_dir = inputs.cache_dir / inputs.key;

  if (options.apply_patches && !inputs.patched)
    report(options, "the series in " + inputs.series.directory.string() +
                        " is empty: building without patches (the result is labelled unpatched)");

  FileLock lock(inputs.cache_dir / (inputs.key + ".lock"), [&] {
    report(options, "another process is building " + inputs.key + "; waiting for " +
                        (inputs.cache_dir / (inputs.key + ".lock")).string());
  });
  if (auto cached = load_build(final_dir)) {
    cached->from_cache = true;
    report(options, "cached: " + cached->image.string() + " (" + cached->release + ", built " +
                        cached->built_at + ")");
    return *cached;
  }

  // Leftovers of an interrupted build are ours to remove: we hold the key's lock.
  fs::path work = inputs.cache_dir / (inputs.key + ".work");
  fs::remove_all(work);
  fs::remove_all(final_dir);
  fs::create_directories(work / "out");
  check_free_space(inputs.cache_dir);
  fs::path tree = work / "src";
  // The log lives beside the key so it survives a failed build; a finished build
  // moves it into its directory.
  fs::path log_path = inputs.cache_dir / (inputs.key + ".build.log");
  std::ofstream log(log_path, std::ios::trunc);

  try {
    report(options, (inputs.source_is_directory ? "copying " : "extracting ") +
                        inputs.source.string() + " into " + tree.string());
    extract_source(inputs, tree, log, log_path);
    std::string version = makefile_version(tree);

    if (inputs.patched) {
      report(options, "applying " + std::to_string(inputs.series.patches.size()) +
                          " patches from " + inputs.series.directory.string());
      apply_series(inputs.series, tree);
    }

    report(options, "configuring: tinyconfig + " + inputs.config_fragment.string());
    auto unknown = configure(inputs, tree, work / "fragment.config", log, log_path);
    auto resolved = config_values(read_file(tree / ".config"));
    auto check = check_config(parse_config(inputs.config_text), resolved, unknown, inputs.patched);
    if (!check.dropped.empty())
      throw CommandError("the kernel configuration lost " + std::to_string(check.dropped.size()) +
                         " option(s) of " + inputs.config_fragment.string() +
                         " after make olddefconfig:\n" + describe_dropped(check.dropped) +
                         "Add the missing dependencies to the fragment or remove the options.");
    for (const auto& name : check.series_only)
      report(options, name + " is defined only by the MAP_NOZERO series: not set in this build");

    unsigned jobs = options.jobs != 0 ? options.jobs : std::max(1u, std::thread::hardware_concurrency());
    std::map<std::string, std::string> make_env{{"KBUILD_BUILD_USER", "nozero-bench"},
                                                {"KBUILD_BUILD_HOST", "nozero-bench"}};
    std::string local = "LOCALVERSION=" + localversion(inputs.patched);
    report(options, "compiling bzImage with make -j" + std::to_string(jobs) + " (log " +
                        log_path.string() + ")");
    MakeProgress progress(options, log, tree);
    run_step({"make", "-j" + std::to_string(jobs), local, "bzImage"}, tree, make_env, log,
             log_path, "make bzImage", [&](std::string_view chunk) { progress.feed(chunk); });
    progress.finish();

    RunOptions in_tree;
    in_tree.cwd = tree;
    auto release = run_process({"make", "-s", local, "kernelrelease"}, in_tree);
    if (release.exit_status != 0)
      throw CommandError("make kernelrelease failed: " + release.stderr_text, kExitFailure);
    std::string release_name = release.stdout_text.substr(0, release.stdout_text.find('\n'));

    fs::copy_file(tree / "arch/x86/boot/bzImage", work / "out" / "bzImage");
    fs::copy_file(tree / "vmlinux", work / "out" / "vmlinux");
    fs::copy_file(tree / "System.map", work / "out" / "System.map");
    fs::copy_file(tree / ".config", work / "out" / "config");

    double build_s = std::chrono::duration<double>(Clock::now() - started).count();
    nlohmann::json patches = nlohmann::json::array();
    for (const auto& patch : inputs.series.patches) patches.push_back(patch.name);
    nlohmann::json metadata = {
        {"schema", kMetadataSchema},
        {"schema_version", 1},
        {"key", inputs.key},
        {"release", release_name},
        {"patched", inputs.patched},
        {"source", {{"path", inputs.source.string()}, {"id", inputs.source_id}, {"version", version}}},
        {"series", inputs.patched ? nlohmann::json{{"directory", inputs.series.directory.string()},
                                                   {"hash", inputs.series.hash},
                                                   {"patches", patches}}
                                  : nlohmann::json(nullptr)},
        {"config",
         {{"fragment", inputs.config_fragment.string()},
          {"hash", inputs.config_hash},
          {"series_only_options", check.series_only}}},
        {"compiler", inputs.compiler},
        {"jobs", jobs},
        {"recipe", kRecipeVersion},
        {"image", "bzImage"},
        {"built_at", utc_timestamp(started_wall)},
        {"build_s", build_s},
        {"measured_on", "host"},
    };
    log.close();
    fs::rename(log_path, work / "out" / "build.log");
    write_file_atomic(work / "out" / "metadata.json", metadata.dump(2) + "\n");
    fs::rename(work / "out", final_dir);
    fs::remove_all(work);
    report(options, "built " + release_name + " in " + format_duration(build_s) + " (host)");

    auto build = to_build(final_dir, metadata);
    return build;
  } catch (...) {
    // Keep the log (its path is in the error) and drop the 2 GiB tree.
    log.close();
    std::error_code ignored;
    fs::remove_all(work, ignored);
    throw;
  }
}

}  // namespace nozero::kernel

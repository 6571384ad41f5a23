// nozero-bench report: statistics in C++, rendering by the matplotlib scripts in
// reports/, which read only the JSON written here.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ostream>

#include "core/errors.h"
#include "stats/subcommands.h"
#include "stats/report_data.h"
#include "stats/serialize.h"

extern char** environ;

namespace nozero::stats {
namespace {

namespace fs = std::filesystem;

fs::path scripts_dir(const fs::path& requested) {
  fs::path dir = requested;
  if (dir.empty()) {
    const char* from_environment = std::getenv("NOZERO_REPORTS_DIR");
    dir = from_environment != nullptr && *from_environment != '\0' ? fs::path{from_environment}
                                                                   : fs::path{NOZERO_REPORTS_DIR};
  }
  if (!fs::exists(dir / "render_report.py")) {
    throw CommandError(dir.string() + " has no render_report.py; set NOZERO_REPORTS_DIR to the reports/ directory "
                                      "of the nozero-bench source tree");
  }
  return dir;
}

// Runs python on a script from reports/; its output goes to this process's stdout
// and stderr. Throws CommandError when it cannot start or exits non-zero.
void run_script(const fs::path& python, const fs::path& script, const std::vector<std::string>& arguments) {
  if (access(python.c_str(), X_OK) != 0) {
    throw CommandError(python.string() + ": not found or not executable; install Debian's python3, "
                                         "python3-matplotlib and python3-numpy (scripts/install-deps), "
                                         "or pass --python PATH");
  }
  std::vector<std::string> argv_strings{python.string(), script.string()};
  argv_strings.insert(argv_strings.end(), arguments.begin(), arguments.end());
  std::vector<char*> argv;
  for (std::string& argument : argv_strings) {
    argv.push_back(argument.data());
  }
  argv.push_back(nullptr);

  pid_t pid = 0;
  const int spawn_error = posix_spawn(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ);
  if (spawn_error != 0) {
    throw CommandError("cannot start " + python.string() + ": " + std::strerror(spawn_error));
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw CommandError("waiting for " + script.filename().string() + " failed: " + std::strerror(errno));
    }
  }
  if (WIFSIGNALED(status)) {
    throw CommandError(script.string() + " was killed by signal " + std::to_string(WTERMSIG(status)),
                       kExitFailure);
  }
  if (WEXITSTATUS(status) != 0) {
    throw CommandError(script.string() + " failed with exit status " + std::to_string(WEXITSTATUS(status)) +
                           " (its message is above); check that " + python.string() +
                           " imports matplotlib (Debian package python3-matplotlib)",
                       kExitFailure);
  }
}

void make_directory(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    throw CommandError(dir.string() + ": cannot create the output directory (" + error.message() + ")");
  }
}

}  // namespace

int run_report(const ReportRequest& request, std::ostream& out, std::ostream& err) {
  if (request.results.empty()) {
    throw CommandError("no results given; pass one or more results.json files or result directories");
  }
  if (request.out_dir.empty()) {
    throw CommandError("--out DIR is required: the directory to write report.json, report.md and report.html to");
  }
  const fs::path scripts = scripts_dir(request.scripts_dir);

  std::vector<LoadedResults> sources;
  for (const fs::path& path : request.results) {
    sources.push_back(load_results(path));
  }
  ReportOptions options;
  options.resamples = request.resamples;
  options.seed = request.seed;
  options.generated_at = utc_now();
  for (std::size_t i = 1; i < sources.size(); ++i) {
    const std::vector<SetupDifference> differences = compare_setup(sources[0].setup, sources[i].setup);
    if (differences.empty()) {
      continue;
    }
    if (!request.force) {
      throw CommandError("cannot pool " + sources[i].path.string() + " with " + sources[0].path.string() +
                         ": the recorded setups differ:\n" + describe_differences(differences) +
                         "Report them separately, or pass --force to pool them anyway");
    }
    options.forced_differences.insert(options.forced_differences.end(), differences.begin(), differences.end());
  }

  const nlohmann::ordered_json report = build_report(sources, options);
  for (const auto& warning : report["warnings"]) {
    err << "warning: " << warning.get<std::string>() << "\n";
  }

  make_directory(request.out_dir);
  const fs::path report_json = request.out_dir / "report.json";
  write_file_atomically(report_json, report.dump(2) + "\n");
  run_script(request.python, scripts / "render_report.py", {report_json.string(), "--out", request.out_dir.string()});

  for (const char* name : {"report.md", "report.html"}) {
    if (!fs::exists(request.out_dir / name)) {
      throw CommandError("render_report.py exited 0 but wrote no " + (request.out_dir / name).string(), kExitFailure);
    }
  }
  out << "report: " << (request.out_dir / "report.html").string() << "\n"
      << "summary: " << (request.out_dir / "report.md").string() << "\n";
  return kExitOk;
}

int run_index(const IndexRequest& request, std::ostream& out, std::ostream&) {
  const fs::path scripts = scripts_dir(request.scripts_dir);
  const nlohmann::ordered_json index = build_index(request.dir, utc_now());
  const fs::path index_json = request.dir / "index.json";
  write_file_atomically(index_json, index.dump(2) + "\n");
  run_script(request.python, scripts / "render_index.py", {index_json.string(), "--out", request.dir.string()});
  if (!fs::exists(request.dir / "index.html")) {
    throw CommandError("render_index.py exited 0 but wrote no " + (request.dir / "index.html").string(), kExitFailure);
  }
  out << "index: " << (request.dir / "index.html").string() << " (" << index["reports"].size() << " reports)\n";
  return kExitOk;
}

}  // namespace nozero::stats

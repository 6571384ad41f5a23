// `nozero-bench kernel build` and `nozero-bench kernel list`.
#include <iostream>
#include <memory>

#include "commands.h"
#include "core/errors.h"
#include "kernel/build.h"

namespace nozero {
namespace {

void print_builds(const std::filesystem::path& cache_dir, bool json) {
  auto builds = kernel::list_builds(cache_dir);
  if (json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& build : builds) {
      auto entry = build.metadata;
      entry["directory"] = build.directory.string();
      entry["image_path"] = build.image.string();
      list.push_back(entry);
    }
    std::cout << list.dump(2) << "\n";
    return;
  }
  if (builds.empty()) {
    std::cout << "no kernel builds in " << cache_dir.string()
              << "; run `nozero-bench kernel build`\n";
    return;
  }
  for (const auto& build : builds) {
    std::cout << build.key << "  " << build.release << "  "
              << (build.patched ? "patched  " : "unpatched") << "  " << build.built_at << "  "
              << build.image.string() << "\n";
  }
}

}  // namespace

void add_kernel_command(CLI::App& app) {
  auto* kernel = app.add_subcommand("kernel", "Build and list guest kernels");
  kernel->require_subcommand(1);

  auto options = std::make_shared<kernel::BuildOptions>();
  auto* build = kernel->add_subcommand(
      "build",
      "Build the guest kernel (tinyconfig + config fragment, with the MAP_NOZERO series unless "
      "--no-patches) or reuse the cached one; prints the bzImage path");
  build->add_option("--source", options->source,
                    "Kernel source: a tarball or an extracted tree")
      ->capture_default_str();
  auto no_patches = std::make_shared<bool>(false);
  build->add_flag("--no-patches", *no_patches,
                  "Build the same kernel without the MAP_NOZERO series (for A/B)");
  build->add_option("--patches", options->patches_dir,
                    "Directory holding the series file and its patches "
                    "[default: kernel-patches/linux-6.12 of the source tree]");
  build->add_option("--config", options->config_fragment,
                    "Config fragment merged over tinyconfig "
                    "[default: kernel-patches/nozero.config]");
  build->add_option("--cache-dir", options->cache_dir,
                    "Where builds are cached [default: ${XDG_CACHE_HOME:-~/.cache}/"
                    "nozero-bench/kernels]");
  build->add_option("--jobs,-j", options->jobs, "Parallel make jobs [default: online CPUs]")
      ->check(CLI::Range(1u, 1024u));
  build->callback([options, no_patches] {
    options->apply_patches = !*no_patches;
    auto result = kernel::build_kernel(*options);
    std::cout << result.image.string() << "\n";
  });

  auto cache_dir = std::make_shared<std::filesystem::path>();
  auto json = std::make_shared<bool>(false);
  auto* list = kernel->add_subcommand("list", "List cached kernel builds, newest first");
  list->add_option("--cache-dir", *cache_dir, "Cache directory [default: as for build]");
  list->add_flag("--json", *json, "Print the builds' metadata as JSON");
  list->callback([cache_dir, json] {
    print_builds(cache_dir->empty() ? kernel::default_cache_dir() : *cache_dir, *json);
  });
}

}  // namespace nozero

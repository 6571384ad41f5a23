// Builds the guest kernel (Debian's linux-source-6.12, the MAP_NOZERO series, the
// config fragment) and caches each bzImage under a hash of everything that went in.
//
// Cache layout, one directory per build key:
//   <cache_dir>/<key>/bzImage        the image QEMU boots
//   <cache_dir>/<key>/vmlinux        unstripped, for symbolising kernel samples
//   <cache_dir>/<key>/System.map
//   <cache_dir>/<key>/config         the resolved .config
//   <cache_dir>/<key>/build.log      make's full output
//   <cache_dir>/<key>/metadata.json  schema "nozero-bench/kernel-build"
//   <cache_dir>/<key>.lock           flock(2) held while the key is built
//   <cache_dir>/<key>.work/          the source tree during a build, removed after
//   <cache_dir>/<key>.build.log      the log while building, and of a failed build
// A build goes into <key>.work/ and is renamed to <key>/ when complete, so a
// directory <key>/ with metadata.json is always a finished build.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernel/series.h"

namespace nozero::kernel {

inline constexpr const char* kDefaultSource = "/usr/src/linux-source-6.12.tar.xz";

struct BuildOptions {
  // A .tar.xz/.tar.gz/.tar of a kernel tree, or a directory holding one.
  std::filesystem::path source = kDefaultSource;
  // Empty: <source tree>/kernel-patches/linux-6.12.
  std::filesystem::path patches_dir;
  bool apply_patches = true;
  // Empty: <source tree>/kernel-patches/nozero.config.
  std::filesystem::path config_fragment;
  // Empty: ${XDG_CACHE_HOME:-~/.cache}/nozero-bench/kernels.
  std::filesystem::path cache_dir;
  // 0: one job per online CPU.
  unsigned jobs = 0;
  // Receives progress lines; empty prints them to stderr.
  std::function<void(std::string_view line)> progress;
};

// Everything the cache key is computed from, resolved from BuildOptions.
struct BuildInputs {
  std::filesystem::path source;
  bool source_is_directory = false;
  // "tarball sha256:<hex>" or "directory <path> version <x.y.z>".
  std::string source_id;
  Series series;
  // True when patches were requested and the series is not empty.
  bool patched = false;
  std::filesystem::path config_fragment;
  std::string config_text;
  std::string config_hash;  // "sha256:<hex>"
  std::string compiler;     // first line of `gcc --version`
  std::filesystem::path cache_dir;
  std::string key;          // 20 hex digits
};

struct KernelBuild {
  std::filesystem::path directory;
  std::filesystem::path image;
  std::string key;
  std::string release;      // `uname -r` of the guest, e.g. "6.12.57-nozero"
  bool patched = false;
  std::string series_hash;
  std::string config_hash;
  std::string built_at;     // UTC, ISO 8601
  double build_s = 0;
  bool from_cache = false;
  nlohmann::json metadata;
};

std::filesystem::path default_cache_dir();

// Resolves defaults and hashes the inputs. Throws CommandError for a missing
// source, fragment or patch.
BuildInputs resolve_inputs(const BuildOptions& options);

// The cache key of a set of inputs: a hash of the source identity, the series hash
// (when patched), the fragment, the compiler and the build recipe version.
std::string compute_key(const BuildInputs& inputs);

// A finished build in `directory`, or nullopt if it has no valid metadata.
std::optional<KernelBuild> load_build(const std::filesystem::path& directory);

// Every finished build in the cache, newest first.
std::vector<KernelBuild> list_builds(const std::filesystem::path& cache_dir);

// The newest finished build with the given `patched` flag.
std::optional<KernelBuild> newest_build(const std::filesystem::path& cache_dir, bool patched);

// The cached build for these options, without building.
std::optional<KernelBuild> find_build(const BuildOptions& options);

// Returns the cached build or builds it: extract, apply the series, configure
// (tinyconfig, merge the fragment, olddefconfig), verify the fragment, make bzImage.
// Holds <key>.lock, so concurrent builds of one key build it once. Throws
// CommandError naming the failing step.
KernelBuild build_kernel(const BuildOptions& options);

}  // namespace nozero::kernel

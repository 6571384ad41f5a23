// Guest-side tests of the MAP_NOZERO kernel series, in the style of the kernel
// selftests: KTAP output, a plan sized by what the running kernel supports, a
// skip when a feature is missing and a failure only when its semantics break.
//
// Run as root inside the guest. The suite switches users by fork, setgid,
// setuid and exec of this same binary in a "--role" mode, because a process
// that changes its credentials after exec loses its MAP_NOZERO class on
// purpose: only an exec gives a process the class of its new user.
//
// Exit status: 0 all passed, 1 a test failed, 4 everything skipped (not root),
// 2 invalid arguments.

#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "nozero/uapi.h"

namespace {

namespace uapi = nozero::uapi;

constexpr std::uint64_t kMagic = 0x4e5a2d5445535421ULL;  // "NZ-TEST!"
constexpr std::size_t kPageSize = 4096;
constexpr std::size_t kWordsPerPage = kPageSize / sizeof(std::uint64_t);
constexpr std::size_t kHugePageSize = 2UL << 20;
constexpr unsigned kDonorUid = 1000;
constexpr unsigned kScannerUid = 1001;
constexpr int kExitSkip = 4;
constexpr int kExitUsage = 2;

// ---------------------------------------------------------------------------
// Kernel interfaces
// ---------------------------------------------------------------------------

std::map<std::string, std::uint64_t> read_vmstat() {
  std::map<std::string, std::uint64_t> values;
  std::ifstream in("/proc/vmstat");
  std::string name;
  std::uint64_t value = 0;
  while (in >> name >> value) values[name] = value;
  return values;
}

std::uint64_t vmstat_value(const std::map<std::string, std::uint64_t>& values,
                           const std::string& name) {
  auto it = values.find(name);
  return it == values.end() ? 0 : it->second;
}

// Counter deltas between two snapshots.
struct Counters {
  std::uint64_t free = 0, reuse = 0, clear = 0, thp_reuse = 0, thp_clear = 0,
                thp_fault_alloc = 0;

  static Counters now() {
    auto v = read_vmstat();
    return {vmstat_value(v, uapi::kVmstatFree),     vmstat_value(v, uapi::kVmstatReuse),
            vmstat_value(v, uapi::kVmstatClear),    vmstat_value(v, uapi::kVmstatThpReuse),
            vmstat_value(v, uapi::kVmstatThpClear), vmstat_value(v, "thp_fault_alloc")};
  }
  Counters operator-(const Counters& o) const {
    return {free - o.free,           reuse - o.reuse,         clear - o.clear,
            thp_reuse - o.thp_reuse, thp_clear - o.thp_clear, thp_fault_alloc - o.thp_fault_alloc};
  }
  std::string describe() const {
    std::ostringstream out;
    out << "nozero_free=" << free << " nozero_reuse=" << reuse << " nozero_clear=" << clear
        << " nozero_thp_reuse=" << thp_reuse << " nozero_thp_clear=" << thp_clear
        << " thp_fault_alloc=" << thp_fault_alloc;
    return out.str();
  }
};

bool vmstat_has(const std::string& name) { return read_vmstat().count(name) != 0; }

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool write_file(const std::string& path, const std::string& text) {
  int fd = open(path.c_str(), O_WRONLY | O_TRUNC);
  if (fd < 0) return false;
  bool ok = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  return ok;
}

long brk2(unsigned long addr, unsigned long flags) {
  return syscall(uapi::kSysBrk2, addr, flags);
}

// The VmFlags line of the smaps entry that contains addr, or "" when none does.
std::string smaps_vmflags(const void* addr) {
  auto target = reinterpret_cast<std::uintptr_t>(addr);
  std::ifstream in("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    std::uintptr_t start = 0, end = 0;
    char dash = 0;
    std::istringstream header(line);
    if (line.find("VmFlags:") == 0) {
      if (inside) return line;
      continue;
    }
    if (header >> std::hex >> start >> dash >> end && dash == '-' && line.find(' ') != std::string::npos &&
        std::isxdigit(static_cast<unsigned char>(line[0]))) {
      inside = target >= start && target < end;
    }
  }
  return "";
}

bool has_nz_flag(const void* addr) {
  std::string flags = smaps_vmflags(addr);
  std::istringstream words(flags);
  std::string word;
  while (words >> word)
    if (word == uapi::kSmapsFlag) return true;
  return false;
}

// Number of /proc/self/maps lines that overlap [start, end).
int count_vmas(const void* start_addr, std::size_t length) {
  auto start = reinterpret_cast<std::uintptr_t>(start_addr);
  auto end = start + length;
  std::ifstream in("/proc/self/maps");
  std::string line;
  int count = 0;
  while (std::getline(in, line)) {
    std::uintptr_t vma_start = 0, vma_end = 0;
    char dash = 0;
    std::istringstream header(line);
    if (header >> std::hex >> vma_start >> dash >> vma_end && vma_start < end && vma_end > start) ++count;
  }
  return count;
}

void pin_to_cpu(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

// ---------------------------------------------------------------------------
// Page scanning shared by the roles
// ---------------------------------------------------------------------------

struct ScanTotals {
  std::uint64_t pages = 0;
  std::uint64_t nonzero = 0;  // pages with any non-zero word
  std::uint64_t alien = 0;    // non-zero pages that are not exactly this process's own marks
  std::uint64_t foreign = 0;  // pages carrying the marker of the given "forbidden" writer
};

// Faults each page in by writing word 0, scans the rest for leftovers, then
// leaves marker in words 1 and 511. The write must come first: a read fault
// maps the shared zero page, which would always scan clean.
void scan_and_mark(std::uint64_t* words, std::size_t pages, std::uint64_t marker,
                   std::uint64_t forbidden, ScanTotals& totals) {
  for (std::size_t p = 0; p < pages; ++p) {
    std::uint64_t* page = words + p * kWordsPerPage;
    page[0] = kMagic;
    bool nonzero = false;
    for (std::size_t w = 1; w < kWordsPerPage; ++w) {
      if (page[w] != 0) {
        nonzero = true;
        break;
      }
    }
    ++totals.pages;
    if (nonzero) {
      ++totals.nonzero;
      // A page of our own comes back with our marks and nothing else.
      bool own = page[1] == marker && page[kWordsPerPage - 1] == marker;
      for (std::size_t w = 2; own && w < kWordsPerPage - 1; ++w) own = page[w] == 0;
      if (!own) ++totals.alien;
      if (forbidden != 0 && page[1] == forbidden) ++totals.foreign;
    }
    page[1] = marker;
    page[kWordsPerPage - 1] = marker;
  }
}

void print_totals(const ScanTotals& t) {
  std::printf("result pages=%llu nonzero=%llu alien=%llu foreign=%llu\n", static_cast<unsigned long long>(t.pages),
              static_cast<unsigned long long>(t.nonzero), static_cast<unsigned long long>(t.alien),
              static_cast<unsigned long long>(t.foreign));
}

// ---------------------------------------------------------------------------
// Roles: what a child process runs after exec under its own credentials
// ---------------------------------------------------------------------------

struct RoleOptions {
  std::string role;
  std::size_t pages = 256;
  unsigned iterations = 20;
  bool nozero = true;
  std::uint64_t marker = 1;
  std::uint64_t forbidden = 0;
  int cpu = 0;
  bool nondumpable = false;           // PR_SET_DUMPABLE 0 before the first mapping
  std::uint64_t drop_marker = 0;      // after iteration 1: drop the class, then write this
  std::string drop_how;               // "dumpable" or "setuid"
  unsigned useconds_between = 0;
};

// nzmmap-style loop. Reports the counter deltas of the iterations after the
// first, and what the scans found.
int role_loop(const RoleOptions& o) {
  pin_to_cpu(o.cpu);
  if (o.nondumpable) prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | (o.nozero ? uapi::kMapNozero : 0);
  std::size_t length = o.pages * kPageSize;
  ScanTotals totals;
  Counters after_first{};
  std::uint64_t nonzero_after_first = 0;
  for (unsigned i = 0; i < o.iterations; ++i) {
    void* area = mmap(nullptr, length, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (area == MAP_FAILED) {
      std::printf("error mmap %zu pages: %s\n", o.pages, std::strerror(errno));
      return 1;
    }
    auto* words = static_cast<std::uint64_t*>(area);
    ScanTotals before = totals;
    scan_and_mark(words, o.pages, o.marker, o.forbidden, totals);
    if (i > 0) nonzero_after_first += totals.nonzero - before.nonzero;
    if (i == 0 && o.drop_marker != 0) {
      // The pages were tagged for the old class. Whatever is written after
      // the drop belongs to the new class, so it must never reach the old one.
      if (o.drop_how == "dumpable") {
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
      } else if (setgid(kDonorUid) != 0 || setuid(kDonorUid) != 0) {
        std::printf("error setuid: %s\n", std::strerror(errno));
        return 1;
      }
      for (std::size_t p = 0; p < o.pages; ++p) words[p * kWordsPerPage + 1] = o.drop_marker;
    }
    munmap(area, length);
    if (i == 0) after_first = Counters::now();
    if (o.useconds_between) usleep(o.useconds_between);
  }
  Counters delta = Counters::now() - after_first;
  std::printf("after_first reuse=%llu clear=%llu free=%llu nonzero=%llu\n",
              static_cast<unsigned long long>(delta.reuse), static_cast<unsigned long long>(delta.clear),
              static_cast<unsigned long long>(delta.free),
              static_cast<unsigned long long>(nonzero_after_first));
  print_totals(totals);
  return 0;
}

// brk heap loop: grow by pages with brk2(BRK_NOZERO), scan and mark, shrink.
int role_brk(const RoleOptions& o) {
  pin_to_cpu(o.cpu);
  long bad = brk2(0, 0x2);
  std::printf("bad_flags ret=%ld errno=%d\n", bad, bad < 0 ? errno : 0);
  auto base = static_cast<unsigned long>(brk2(0, 0));
  // Start on a page boundary so that every page is wholly ours.
  unsigned long start = (base + kPageSize - 1) & ~(kPageSize - 1);
  std::size_t length = o.pages * kPageSize;
  ScanTotals totals;
  Counters after_first{};
  bool flag_seen = false;
  for (unsigned i = 0; i < o.iterations; ++i) {
    long top = brk2(start + length, o.nozero ? uapi::kBrkNozero : 0);
    if (static_cast<unsigned long>(top) != start + length) {
      std::printf("error brk2 to %#lx returned %#lx\n", start + length, static_cast<unsigned long>(top));
      return 1;
    }
    auto* words = reinterpret_cast<std::uint64_t*>(start);
    scan_and_mark(words, o.pages, o.marker, o.forbidden, totals);
    if (i == 0) flag_seen = has_nz_flag(words);
    brk2(start, 0);
    if (i == 0) after_first = Counters::now();
  }
  Counters delta = Counters::now() - after_first;
  std::printf("heap_nz=%d\n", flag_seen ? 1 : 0);
  std::printf("after_first reuse=%llu clear=%llu free=%llu nonzero=0\n",
              static_cast<unsigned long long>(delta.reuse), static_cast<unsigned long long>(delta.clear),
              static_cast<unsigned long long>(delta.free));
  print_totals(totals);
  return 0;
}

// A malloc-heavy program that never calls MAP_NOZERO or brk2 itself: it relies
// on PR_SET_NOZERO inherited through exec. Phase "brk" keeps malloc on the
// heap, phase "mmap" sends every block to its own mapping.
int role_malloc(const RoleOptions& o) {
  pin_to_cpu(o.cpu);
  std::printf("prctl_get=%d\n", prctl(uapi::kPrGetNozero, 0, 0, 0, 0));
  const std::size_t block = o.pages * kPageSize;
  for (const char* phase : {"brk", "mmap"}) {
    if (std::strcmp(phase, "brk") == 0) {
      mallopt(M_MMAP_MAX, 0);
      mallopt(M_TRIM_THRESHOLD, 0);
      mallopt(M_TOP_PAD, 0);
    } else {
      mallopt(M_MMAP_MAX, 65536);
      mallopt(M_MMAP_THRESHOLD, 64 * 1024);
    }
    Counters start{};
    for (unsigned i = 0; i < o.iterations; ++i) {
      auto* p = static_cast<unsigned char*>(std::malloc(block));
      if (p == nullptr) return 1;
      for (std::size_t off = 0; off < block; off += kPageSize) p[off] = 1;
      std::free(p);
      if (i == 0) start = Counters::now();
    }
    Counters delta = Counters::now() - start;
    std::printf("phase %s reuse=%llu clear=%llu\n", phase, static_cast<unsigned long long>(delta.reuse),
                static_cast<unsigned long long>(delta.clear));
  }
  return 0;
}

// Reports PR_GET_NOZERO and whether new memory comes out VM_NOZERO.
int role_print_prctl(const RoleOptions&) {
  int get = prctl(uapi::kPrGetNozero, 0, 0, 0, 0);
  void* area = mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  bool anon_nz = area != MAP_FAILED && has_nz_flag(area);
  auto base = reinterpret_cast<unsigned long>(sbrk(0));
  void* heap = sbrk(16 * kPageSize);
  bool heap_nz = heap != reinterpret_cast<void*>(-1) &&
                 has_nz_flag(reinterpret_cast<void*>((base + kPageSize) & ~(kPageSize - 1)));
  std::printf("prctl_get=%d anon_nz=%d heap_nz=%d\n", get, anon_nz ? 1 : 0, heap_nz ? 1 : 0);
  return 0;
}

// Huge-page loop: a 2 MiB-aligned MADV_HUGEPAGE region, touched, scanned, unmapped.
int role_thp(const RoleOptions& o) {
  pin_to_cpu(o.cpu);
  int flags = MAP_PRIVATE | MAP_ANONYMOUS | (o.nozero ? uapi::kMapNozero : 0);
  const std::size_t length = o.pages * kHugePageSize;
  ScanTotals totals;
  Counters after_first{};
  for (unsigned i = 0; i < o.iterations; ++i) {
    void* raw = mmap(nullptr, length + kHugePageSize, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (raw == MAP_FAILED) return 1;
    auto addr = (reinterpret_cast<std::uintptr_t>(raw) + kHugePageSize - 1) & ~(kHugePageSize - 1);
    auto* words = reinterpret_cast<std::uint64_t*>(addr);
    madvise(words, length, MADV_HUGEPAGE);
    scan_and_mark(words, length / kPageSize, o.marker, o.forbidden, totals);
    munmap(raw, length + kHugePageSize);
    if (i == 0) after_first = Counters::now();
  }
  Counters delta = Counters::now() - after_first;
  std::printf("after_first thp_reuse=%llu thp_clear=%llu thp_fault_alloc=%llu\n",
              static_cast<unsigned long long>(delta.thp_reuse), static_cast<unsigned long long>(delta.thp_clear),
              static_cast<unsigned long long>(delta.thp_fault_alloc));
  print_totals(totals);
  return 0;
}

std::optional<RoleOptions> parse_role(int argc, char** argv) {
  RoleOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (arg == "--role") o.role = next();
    else if (arg == "--pages") o.pages = std::stoul(next());
    else if (arg == "--iterations") o.iterations = static_cast<unsigned>(std::stoul(next()));
    else if (arg == "--plain") o.nozero = false;
    else if (arg == "--marker") o.marker = std::stoull(next(), nullptr, 0);
    else if (arg == "--forbidden") o.forbidden = std::stoull(next(), nullptr, 0);
    else if (arg == "--cpu") o.cpu = std::stoi(next());
    else if (arg == "--nondumpable") o.nondumpable = true;
    else if (arg == "--drop-marker") o.drop_marker = std::stoull(next(), nullptr, 0);
    else if (arg == "--drop-how") o.drop_how = next();
    else if (arg == "--sleep-us") o.useconds_between = static_cast<unsigned>(std::stoul(next()));
    else {
      std::fprintf(stderr, "invalid role argument: %s\n", arg.c_str());
      return std::nullopt;
    }
  }
  return o;
}

int run_role(const RoleOptions& o) {
  if (o.role == "loop") return role_loop(o);
  if (o.role == "brk") return role_brk(o);
  if (o.role == "malloc") return role_malloc(o);
  if (o.role == "print-prctl") return role_print_prctl(o);
  if (o.role == "thp") return role_thp(o);
  std::fprintf(stderr, "invalid role: %s (expected loop, brk, malloc, print-prctl or thp)\n", o.role.c_str());
  return kExitUsage;
}

// ---------------------------------------------------------------------------
// Spawning roles under other credentials
// ---------------------------------------------------------------------------

struct Child {
  pid_t pid = -1;
  int out_fd = -1;
};

struct SpawnOptions {
  SpawnOptions(unsigned user, bool set_nozero = false, std::string path = {})
      : uid(user), prctl_nozero(set_nozero), program(std::move(path)) {}

  unsigned uid;
  bool prctl_nozero;    // PR_SET_NOZERO 1 before exec
  std::string program;  // empty: this binary
  std::string preload;  // LD_PRELOAD of the program, when set
  int cpu = -1;         // pin the program to this CPU (inherited through exec), when set
};

std::string g_self;  // path of this binary, copied to the private tmpfs

Child spawn(const SpawnOptions& s, const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) return {};
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    if (s.uid != 0) {
      gid_t gid = s.uid;
      if (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(s.uid) != 0) _exit(120);
    }
    if (s.prctl_nozero && prctl(uapi::kPrSetNozero, 1, 0, 0, 0) != 0) _exit(121);
    if (!s.preload.empty() && setenv("LD_PRELOAD", s.preload.c_str(), 1) != 0) _exit(123);
    if (s.cpu >= 0) pin_to_cpu(s.cpu);
    std::string program = s.program.empty() ? g_self : s.program;
    std::vector<char*> argv;
    argv.push_back(program.data());
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(122);
  }
  close(fds[1]);
  return {pid, fds[0]};
}

struct ChildResult {
  int status = -1;
  std::string output;
  std::map<std::string, std::uint64_t> values;  // key=value pairs of the output
};

ChildResult wait_child(Child c) {
  ChildResult r;
  char buffer[4096];
  ssize_t n;
  while ((n = read(c.out_fd, buffer, sizeof(buffer))) > 0) r.output.append(buffer, static_cast<std::size_t>(n));
  close(c.out_fd);
  int status = 0;
  waitpid(c.pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::istringstream lines(r.output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string prefix, word;
    words >> prefix;
    while (words >> word) {
      auto eq = word.find('=');
      if (eq == std::string::npos) continue;
      try {
        r.values[prefix + "." + word.substr(0, eq)] = std::stoull(word.substr(eq + 1), nullptr, 0);
      } catch (const std::exception&) {
        // A value that is not a number is kept only in the raw output.
      }
    }
  }
  return r;
}

ChildResult run(const SpawnOptions& s, const std::vector<std::string>& args) { return wait_child(spawn(s, args)); }

// ---------------------------------------------------------------------------
// KTAP reporting
// ---------------------------------------------------------------------------

struct Test {
  std::string name;
  std::function<std::optional<std::string>()> enabled;  // skip reason, or nullopt to run
  std::function<bool()> body;                            // true when the semantics hold
};

int g_failed = 0;

void diag(const std::string& text) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) std::printf("# %s\n", line.c_str());
}

bool expect(bool condition, const std::string& what) {
  if (!condition) diag("FAILED: " + what);
  return condition;
}

std::uint64_t value(const ChildResult& r, const std::string& key) {
  auto it = r.values.find(key);
  return it == r.values.end() ? 0 : it->second;
}

bool child_ok(const ChildResult& r, const std::string& what) {
  if (r.status == 0) return true;
  diag(what + " exited with status " + std::to_string(r.status) + "; its output:");
  diag(r.output);
  return false;
}

// ---------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------

bool g_supported = false;

std::vector<std::string> loop_args(std::size_t pages, unsigned iterations, std::uint64_t marker) {
  return {"--role", "loop", "--pages", std::to_string(pages), "--iterations", std::to_string(iterations),
          "--marker", std::to_string(marker)};
}

bool test_unpatched_zeroes() {
  ChildResult r = run({kDonorUid}, loop_args(256, 20, 0xd0));
  if (!child_ok(r, "nzmmap-style loop")) return false;
  diag("MAP_NOZERO not supported: /proc/sys/vm/nozero is missing; " + std::to_string(value(r, "result.pages")) +
       " pages scanned");
  bool ok = expect(value(r, "result.nonzero") == 0, "an unpatched kernel returned a non-zero MAP_NOZERO page");
  errno = 0;
  long ret = brk2(0, 0);
  ok &= expect(ret == -1 && errno == ENOSYS, "syscall 463 should be missing on an unpatched 6.12, got " +
                                                 std::to_string(ret) + " errno " + std::to_string(errno));
  return ok;
}

bool test_smaps_flag() {
  bool ok = true;
  void* priv = mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | uapi::kMapNozero, -1, 0);
  void* shared = mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | uapi::kMapNozero, -1, 0);
  int fd = open("/proc/self/exe", O_RDONLY);
  void* file = mmap(nullptr, kPageSize, PROT_READ, MAP_PRIVATE | uapi::kMapNozero, fd, 0);
  close(fd);
  void* plain = mmap(nullptr, kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ok &= expect(priv != MAP_FAILED && has_nz_flag(priv), "private anonymous MAP_NOZERO lacks \"nz\": " + smaps_vmflags(priv));
  ok &= expect(shared != MAP_FAILED && !has_nz_flag(shared), "shared anonymous mapping got \"nz\"");
  ok &= expect(file != MAP_FAILED && !has_nz_flag(file), "file mapping got \"nz\"");
  ok &= expect(plain != MAP_FAILED && !has_nz_flag(plain), "mapping without MAP_NOZERO got \"nz\"");
  munmap(priv, kPageSize);
  munmap(shared, kPageSize);
  munmap(file, kPageSize);
  munmap(plain, kPageSize);
  return ok;
}

bool test_vma_split_merge() {
  bool ok = true;
  const std::size_t length = 4 * kPageSize;
  auto* base = static_cast<char*>(mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  // Replace the two middle pages by a MAP_NOZERO mapping: it must not merge.
  mmap(base + kPageSize, 2 * kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | uapi::kMapNozero,
       -1, 0);
  ok &= expect(count_vmas(base, length) == 3, "plain|nozero|plain became " + std::to_string(count_vmas(base, length)) +
                                                  " vmas, expected 3");
  // mprotect splits the MAP_NOZERO vma; both halves keep the flag.
  mprotect(base + kPageSize, kPageSize, PROT_READ);
  ok &= expect(has_nz_flag(base + kPageSize) && has_nz_flag(base + 2 * kPageSize), "mprotect split lost \"nz\"");
  munmap(base, length);

  auto* area = static_cast<char*>(
      mmap(nullptr, 2 * kPageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | uapi::kMapNozero, -1, 0));
  area[0] = 1;
  void* moved = mremap(area, 2 * kPageSize, 64 * kPageSize, MREMAP_MAYMOVE);
  ok &= expect(moved != MAP_FAILED && has_nz_flag(moved) && static_cast<char*>(moved)[0] == 1, "mremap lost \"nz\" or data");
  if (moved != MAP_FAILED) munmap(moved, 64 * kPageSize);
  return ok;
}

bool test_reuse_same_owner() {
  ChildResult r = run({kDonorUid}, loop_args(256, 20, 0xa1));
  if (!child_ok(r, "loop")) return false;
  std::uint64_t reuse = value(r, "after_first.reuse"), clear = value(r, "after_first.clear");
  double ratio = reuse + clear ? static_cast<double>(reuse) / static_cast<double>(reuse + clear) : 0;
  char line[160];
  std::snprintf(line, sizeof(line), "iterations 2-20: nozero_reuse=%llu nozero_clear=%llu (%.1f%% reused), %llu non-zero pages",
                static_cast<unsigned long long>(reuse), static_cast<unsigned long long>(clear), 100 * ratio,
                static_cast<unsigned long long>(value(r, "after_first.nonzero")));
  diag(line);
  bool ok = expect(ratio >= 0.9, "less than 90% of the faults after the first iteration were reused");
  ok &= expect(value(r, "after_first.nonzero") > 0, "no recycled page showed its previous content");
  return ok;
}

bool test_no_leak_across_owners() {
  // Donors of uid 1000 keep freeing marked pages while uid 1001 scans, with
  // and without MAP_NOZERO, on both CPUs so that freed pages flow straight
  // into the scanner's faults. A MAP_NOZERO scanner gets its own pages back,
  // so what must never appear is a non-zero page that is not its own.
  Counters start = Counters::now();
  Child donor_a = spawn({kDonorUid}, {"--role", "loop", "--pages", "512", "--iterations", "4000", "--marker", "0xb1",
                                      "--cpu", "0", "--sleep-us", "200"});
  Child donor_b = spawn({kDonorUid}, {"--role", "loop", "--pages", "512", "--iterations", "4000", "--marker", "0xb1",
                                      "--cpu", "1", "--sleep-us", "200"});
  std::vector<std::string> scan = {"--role", "loop", "--pages", "1024", "--iterations", "50", "--marker", "0xc1",
                                   "--forbidden", "0xb1"};
  bool ok = true;
  std::uint64_t pages = 0, alien = 0, foreign = 0, plain_nonzero = 0;
  for (int cpu : {0, 1}) {
    for (bool nozero : {true, false}) {
      std::vector<std::string> args = scan;
      args.insert(args.end(), {"--cpu", std::to_string(cpu)});
      if (!nozero) args.push_back("--plain");
      ChildResult r = run({kScannerUid}, args);
      ok &= child_ok(r, "scanner");
      pages += value(r, "result.pages");
      alien += value(r, "result.alien");
      foreign += value(r, "result.foreign");
      if (!nozero) plain_nonzero += value(r, "result.nonzero");
    }
  }
  kill(donor_a.pid, SIGTERM);
  kill(donor_b.pid, SIGTERM);
  wait_child(donor_a);
  wait_child(donor_b);
  Counters delta = Counters::now() - start;
  diag("uid 1001 scanned " + std::to_string(pages) + " pages: " + std::to_string(alien) + " non-zero and not its own, " +
       std::to_string(foreign) + " with uid 1000's marker, " + std::to_string(plain_nonzero) +
       " non-zero without MAP_NOZERO; " + delta.describe());
  ok &= expect(pages >= 100000, "fewer than 100000 pages scanned");
  ok &= expect(alien == 0, "uid 1001 received a non-zero page that it had not written");
  ok &= expect(foreign == 0, "uid 1001 received a page of uid 1000");
  ok &= expect(plain_nonzero == 0, "a mapping without MAP_NOZERO received a non-zero page");
  ok &= expect(delta.free > 0, "the donors freed no tagged page, so the scan proved nothing");
  return ok;
}

bool test_nondumpable() {
  bool ok = true;
  // A process that is non-dumpable from the start neither donates nor receives.
  Counters start = Counters::now();
  ChildResult r = run({kDonorUid}, {"--role", "loop", "--pages", "256", "--iterations", "20", "--marker", "0xd1",
                                    "--nondumpable"});
  Counters delta = Counters::now() - start;
  ok &= child_ok(r, "non-dumpable loop");
  diag("non-dumpable loop: " + delta.describe() + ", non-zero pages " + std::to_string(value(r, "result.nonzero")));
  ok &= expect(delta.reuse == 0, "a non-dumpable process received recycled pages");
  ok &= expect(delta.free == 0, "a non-dumpable process donated pages");
  ok &= expect(value(r, "result.nonzero") == 0, "a non-dumpable process saw a non-zero page");

  // A donor that becomes non-dumpable after touching its pages: what it writes
  // afterwards must not reach the next process of its user.
  ChildResult dropper = run({kDonorUid}, {"--role", "loop", "--pages", "256", "--iterations", "1", "--marker", "0xd2",
                                          "--drop-marker", "0xd3", "--drop-how", "dumpable"});
  ok &= child_ok(dropper, "dumpable drop");
  ChildResult scanner = run({kDonorUid}, {"--role", "loop", "--pages", "1024", "--iterations", "3", "--marker", "0xd4",
                                          "--forbidden", "0xd3"});
  ok &= child_ok(scanner, "scanner");
  diag("after PR_SET_DUMPABLE 0: same-uid scanner found " + std::to_string(value(scanner, "result.foreign")) +
       " pages written after the drop");
  ok &= expect(value(scanner, "result.foreign") == 0, "data written after PR_SET_DUMPABLE 0 reached the same uid");
  return ok;
}

std::string g_suid_copy;  // setuid-root copy of this binary on the private tmpfs
std::string g_bin_dir;    // where nozero-kselftest was started from: the workload programs sit beside it

bool test_setuid_exec() {
  bool ok = true;
  Counters start = Counters::now();
  ChildResult r = run({kDonorUid, false, g_suid_copy}, {"--role", "loop", "--pages", "256", "--iterations", "20",
                                                        "--marker", "0xe1"});
  Counters delta = Counters::now() - start;
  ok &= child_ok(r, "setuid loop");
  diag("setuid-root exec by uid 1000: " + delta.describe() + ", non-zero pages " +
       std::to_string(value(r, "result.nonzero")));
  ok &= expect(delta.reuse == 0, "a setuid process received recycled pages");
  ok &= expect(delta.free == 0, "a setuid process donated pages");
  ok &= expect(value(r, "result.nonzero") == 0, "a setuid process saw a non-zero page");
  for (unsigned uid : {0u, kDonorUid}) {
    ChildResult scan = run({uid}, {"--role", "loop", "--pages", "1024", "--iterations", "3", "--marker", "0xe2",
                                   "--forbidden", "0xe1"});
    ok &= child_ok(scan, "scanner");
    ok &= expect(value(scan, "result.foreign") == 0,
                 "uid " + std::to_string(uid) + " received a page of the setuid process");
  }
  // PR_SET_NOZERO ends at a privilege-changing exec.
  ChildResult p = run({kDonorUid, true, g_suid_copy}, {"--role", "print-prctl"});
  ok &= child_ok(p, "print-prctl");
  ok &= expect(p.output.find("prctl_get=0") != std::string::npos,
               "PR_SET_NOZERO survived a setuid exec: " + p.output);
  return ok;
}

bool test_credential_change() {
  // A root process that touched MAP_NOZERO pages then becomes uid 1000: root's
  // next processes must not see what it wrote afterwards.
  bool ok = true;
  ChildResult dropper = run({0}, {"--role", "loop", "--pages", "256", "--iterations", "20", "--marker", "0xf1",
                                  "--drop-marker", "0xf2", "--drop-how", "setuid"});
  ok &= child_ok(dropper, "setuid drop");
  diag("after setuid(1000): " + std::to_string(value(dropper, "after_first.reuse")) + " reused faults");
  ok &= expect(value(dropper, "after_first.reuse") == 0, "the process kept recycling after changing its uid");
  ChildResult scan = run({0}, {"--role", "loop", "--pages", "1024", "--iterations", "3", "--marker", "0xf3",
                               "--forbidden", "0xf2"});
  ok &= child_ok(scan, "root scanner");
  ok &= expect(value(scan, "result.foreign") == 0, "root received a page written after the uid change");
  return ok;
}

bool test_sysctl_off() {
  bool ok = true;
  if (!write_file(uapi::kSysctlPath, "0\n")) return expect(false, "cannot write 0 to /proc/sys/vm/nozero");
  Counters start = Counters::now();
  ChildResult r = run({kDonorUid}, loop_args(256, 20, 0x11));
  Counters delta = Counters::now() - start;
  write_file(uapi::kSysctlPath, "1\n");
  ok &= child_ok(r, "loop");
  diag("vm.nozero=0: " + delta.describe() + ", non-zero pages " + std::to_string(value(r, "result.nonzero")));
  ok &= expect(delta.reuse == 0 && delta.free == 0, "pages were recycled with vm.nozero=0");
  ok &= expect(value(r, "result.nonzero") == 0, "a non-zero page with vm.nozero=0");
  ChildResult again = run({kDonorUid}, loop_args(256, 5, 0x12));
  ok &= expect(value(again, "after_first.reuse") > 0, "no reuse after vm.nozero went back to 1");
  return ok;
}

bool test_prctl() {
  bool ok = true;
  ChildResult inherited = run({kDonorUid, true}, {"--role", "print-prctl"});
  ok &= child_ok(inherited, "print-prctl");
  // The opt-in covers the heap, never mmap(): see test_unmodified_programs.
  ok &= expect(inherited.output.find("prctl_get=1 anon_nz=0 heap_nz=1") != std::string::npos,
               "PR_SET_NOZERO not inherited through exec, or not applied to the heap alone: " + inherited.output);
  ChildResult plain = run({kDonorUid}, {"--role", "print-prctl"});
  ok &= expect(plain.output.find("prctl_get=0 anon_nz=0 heap_nz=0") != std::string::npos,
               "no-zero mode without PR_SET_NOZERO: " + plain.output);
  errno = 0;
  ok &= expect(prctl(uapi::kPrSetNozero, 2, 0, 0, 0) == -1 && errno == EINVAL, "PR_SET_NOZERO 2 was accepted");
  return ok;
}

bool test_brk2() {
  ChildResult r = run({kDonorUid}, {"--role", "brk", "--pages", "256", "--iterations", "20", "--marker", "0x21"});
  if (!child_ok(r, "brk loop")) return false;
  bool ok = expect(r.output.find("bad_flags ret=-1 errno=22") != std::string::npos,
                   "brk2 with an unknown flag did not fail with EINVAL: " + r.output);
  ok &= expect(r.output.find("heap_nz=1") != std::string::npos,
               "the heap grown with BRK_NOZERO lacks \"nz\"");
  std::uint64_t reuse = value(r, "after_first.reuse"), clear = value(r, "after_first.clear");
  diag("brk2 heap, iterations 2-20: nozero_reuse=" + std::to_string(reuse) + " nozero_clear=" + std::to_string(clear));
  ok &= expect(reuse * 10 >= (reuse + clear) * 9 && reuse > 0, "less than 90% of the heap faults were reused");
  return ok;
}

// Checks the malloc role's two phases: the heap ("brk") must reuse pages under
// PR_SET_NOZERO, and mmap()ed blocks ("mmap") must not, as the opt-in leaves
// mmap() alone. `strict_mmap` false: other processes may be recycling at the
// same time, so the system-wide counters of the mmap phase are only reported.
bool check_malloc_phases(const std::string& output, const std::string& what, bool strict_mmap) {
  bool ok = true;
  std::istringstream lines(output);
  std::string line;
  int phases = 0;
  while (std::getline(lines, line)) {
    unsigned long long reuse = 0, clear = 0;
    char name[16] = {};
    if (std::sscanf(line.c_str(), "phase %15s reuse=%llu clear=%llu", name, &reuse, &clear) != 3) continue;
    ++phases;
    if (std::strcmp(name, "brk") == 0) {
      ok &= expect(reuse > 0, what + ": no reuse in the heap phase");
    } else if (strict_mmap) {
      ok &= expect(reuse == 0, what + ": mmap()ed blocks were recycled, but the opt-in must leave mmap() alone");
    }
  }
  return ok && expect(phases == 2, what + ": the malloc program did not report both phases");
}

bool test_malloc_program() {
  ChildResult r = run({kDonorUid, true}, {"--role", "malloc", "--pages", "64", "--iterations", "200"});
  if (!child_ok(r, "malloc program")) return false;
  diag(r.output);
  bool ok = expect(r.output.find("prctl_get=1") != std::string::npos, "PR_SET_NOZERO not inherited");
  return check_malloc_phases(r.output, "malloc program", true) && ok;
}

std::string workload(const std::string& name) { return g_bin_dir + "/" + name; }

std::optional<std::string> need_workloads() {
  if (!g_supported) return "MAP_NOZERO not supported by this kernel";
  return std::nullopt;
}

// Checks that the workload programs are beside this binary. A missing one fails
// the case instead of skipping it, because the build always puts them there.
bool workloads_present() {
  bool ok = true;
  for (const char* name : {"nzmmap-test", "smiffy", "ebizzy-nz", "nozero-exec", "libnozero-calloc.so",
                           "nozero-calloc-check"}) {
    ok &= expect(access(workload(name).c_str(), R_OK) == 0,
                 std::string("workload program ") + name + " not found in " + g_bin_dir + ": " + std::strerror(errno));
  }
  return ok;
}

// The project's workload programs: smiffy as uid 1001 must find no non-zero
// page while uid 1000 runs nzmmap-test -N and ebizzy-nz -N.
bool test_workloads_keep_owners_apart() {
  if (!workloads_present()) return false;
  Counters start = Counters::now();
  Child nzmmap = spawn({kDonorUid, false, workload("nzmmap-test")},
                       {"-N", "-p", "512", "-i", "1000000", "--sleep-ms", "0"});
  Child ebizzy = spawn({kDonorUid, false, workload("ebizzy-nz")}, {"-N", "-m", "-t", "1", "-S", "600"});
  bool ok = true;
  std::uint64_t pages = 0;
  for (int round = 0; round < 2; ++round) {
    ChildResult r = run({kScannerUid, false, workload("smiffy")}, {"-p", "1024", "-i", "50"});
    ok &= expect(r.status == 0, "smiffy found a non-zero page or failed (status " + std::to_string(r.status) + "): " +
                                    r.output.substr(0, 2000));
    unsigned long long iterations = 0, scanned = 0, nonzero = 0;
    if (std::sscanf(r.output.c_str(), "%llu iterations, %llu pages scanned, %llu not zero", &iterations, &scanned,
                    &nonzero) == 3) {
      pages += scanned;
      ok &= expect(nonzero == 0, "smiffy reported " + std::to_string(nonzero) + " non-zero pages");
    } else {
      ok &= expect(false, "smiffy printed no summary line: " + r.output.substr(0, 500));
    }
  }
  kill(nzmmap.pid, SIGTERM);
  kill(ebizzy.pid, SIGTERM);
  wait_child(nzmmap);
  wait_child(ebizzy);
  Counters delta = Counters::now() - start;
  diag("smiffy (uid 1001) scanned " + std::to_string(pages) + " pages while nzmmap-test -N and ebizzy-nz -N ran as "
       "uid 1000; " + delta.describe());
  ok &= expect(pages >= 100000, "fewer than 100000 pages scanned");
  ok &= expect(delta.reuse > 0, "the uid 1000 workloads recycled nothing, so the scan proved nothing");

  // nozero-exec runs an unmodified malloc-heavy program in no-zero mode.
  ChildResult m = run({kDonorUid, false, workload("nozero-exec")},
                      {"--", g_self, "--role", "malloc", "--pages", "64", "--iterations", "200"});
  ok &= child_ok(m, "nozero-exec malloc program");
  diag("nozero-exec: " + m.output);
  ok &= check_malloc_phases(m.output, "nozero-exec", false);
  return ok;
}

// Programs that never ask for MAP_NOZERO stay correct under nozero-exec when
// their heap comes back with their own old data: calloc() (preloaded, clearing),
// the loader, thread stacks and descriptors. These are the runs that crashed in
// malloc, segfaulted in libc or hung while the opt-in also covered mmap().
bool test_unmodified_programs() {
  if (!workloads_present()) return false;
  bool ok = true;
  const std::vector<std::string> fill = loop_args(2048, 2, 0x41);
  // A dynamically linked program (this one is static, and LD_PRELOAD needs the
  // dynamic loader) that callocs 1024 pages and starts threads.
  const std::string checker = workload("nozero-calloc-check");

  // The checker frees a heap full of data, then callocs it back. It is pinned to
  // one CPU, so it allocates from the per-CPU lists it freed to.
  SpawnOptions shimmed{kDonorUid, true, checker};
  shimmed.preload = workload("libnozero-calloc.so");
  shimmed.cpu = 0;
  Counters start = Counters::now();
  ChildResult with = run(shimmed, {"1024"});
  Counters delta = Counters::now() - start;
  ok &= child_ok(with, "calloc check with the clearing calloc");
  diag("with libnozero-calloc.so: " + with.output + delta.describe());
  ok &= expect(value(with, "calloc.nonzero") == 0, "calloc() returned a page that was not zero: " + with.output);
  ok &= expect(value(with, "calloc.dirty_threads") == 0, "a thread's zero-initialised data was not zero");
  ok &= expect(delta.reuse > 0, "the heap recycled nothing, so the check proved nothing");

  // Without it, glibc's calloc() returns the recycled data. This is why
  // nozero-exec preloads the library.
  start = Counters::now();
  SpawnOptions plain{kDonorUid, true, checker};
  plain.cpu = 0;
  ChildResult without = run(plain, {"1024"});
  delta = Counters::now() - start;
  ok &= child_ok(without, "calloc check with glibc's calloc");
  diag("with glibc's calloc: " + without.output + delta.describe());
  ok &= expect(value(without, "calloc.nonzero") > 0 || delta.reuse == 0,
               "glibc's calloc() cleared recycled heap memory; the preloaded calloc() may be unneeded");

  for (int round = 0; round < 3; ++round) {
    ok &= child_ok(run({kDonorUid}, fill), "donor loop");
    SpawnOptions exec{kDonorUid, false, workload("nozero-exec")};
    exec.cpu = 0;
    ChildResult ebizzy = run(exec, {"--", workload("ebizzy-nz"), "-M", "-t", "2", "-S", "1"});
    ok &= child_ok(ebizzy, "ebizzy-nz -M under nozero-exec, round " + std::to_string(round + 1));
    ok &= child_ok(run({kDonorUid}, fill), "donor loop");
    ChildResult shell = run(exec, {"--", "/bin/sh", "-c", "ls / >/dev/null"});
    ok &= child_ok(shell, "/bin/sh under nozero-exec, round " + std::to_string(round + 1));
  }
  return ok;
}

bool thp_available() {
  auto setting = read_file("/sys/kernel/mm/transparent_hugepage/enabled");
  return setting && (setting->find("[madvise]") != std::string::npos || setting->find("[always]") != std::string::npos);
}

// The ftrace function profiler counting calls of one kernel function.
class FunctionProfile {
 public:
  explicit FunctionProfile(std::string function) : function_(std::move(function)) {
    const std::string dir = "/sys/kernel/tracing";
    if (!std::filesystem::exists(dir + "/function_profile_enabled"))
      mount("tracefs", dir.c_str(), "tracefs", 0, nullptr);
    active_ = write_file(dir + "/set_ftrace_filter", function_ + "\n") &&
              write_file(dir + "/function_profile_enabled", "0\n") &&
              write_file(dir + "/function_profile_enabled", "1\n");
  }
  ~FunctionProfile() {
    write_file("/sys/kernel/tracing/function_profile_enabled", "0\n");
    write_file("/sys/kernel/tracing/set_ftrace_filter", "\n");
  }
  bool active() const { return active_; }

  // Sum of the per-CPU hit counts of the function so far.
  std::uint64_t hits() const {
    std::uint64_t total = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/sys/kernel/tracing/trace_stat")) {
      if (entry.path().filename().string().rfind("function", 0) != 0) continue;
      std::ifstream in(entry.path());
      std::string name;
      std::string rest;
      while (in >> name) {
        std::getline(in, rest);
        if (name != function_) continue;
        std::istringstream fields(rest);
        std::uint64_t count = 0;
        if (fields >> count) total += count;
      }
    }
    return total;
  }

 private:
  std::string function_;
  bool active_ = false;
};

bool test_thp_reuse() {
  FunctionProfile profile("folio_zero_user");
  Counters start = Counters::now();
  ChildResult r = run({kDonorUid}, {"--role", "thp", "--pages", "2", "--iterations", "10", "--marker", "0x31"});
  Counters delta = Counters::now() - start;
  if (!child_ok(r, "thp loop")) return false;
  std::uint64_t reuse = value(r, "after_first.thp_reuse"), clear = value(r, "after_first.thp_clear");
  diag("huge pages, iterations 2-10: nozero_thp_reuse=" + std::to_string(reuse) + " nozero_thp_clear=" +
       std::to_string(clear) + " thp_fault_alloc=" + std::to_string(value(r, "after_first.thp_fault_alloc")) +
       ", non-zero 4 KiB pages seen " + std::to_string(value(r, "result.nonzero")));
  bool ok = expect(value(r, "after_first.thp_fault_alloc") > 0, "no huge page was allocated");
  ok &= expect(reuse > 0, "no huge folio was reused");
  ok &= expect(value(r, "result.nonzero") > 0, "no reused huge folio showed its previous content");
  if (profile.active()) {
    // Every call of folio_zero_user() clears one folio, so the whole run makes
    // no more calls than it counted cleared folios.
    std::uint64_t calls = profile.hits();
    diag("whole run: folio_zero_user() called " + std::to_string(calls) + " times, nozero_thp_clear=" +
         std::to_string(delta.thp_clear) + " nozero_thp_reuse=" + std::to_string(delta.thp_reuse));
    ok &= expect(calls <= delta.thp_clear, "folio_zero_user() ran for a reused folio");
  } else {
    diag("the ftrace function profiler is not available: folio_zero_user() calls not counted");
  }
  return ok;
}

// A private tmpfs for the setuid copy, because the host root may be read-only or
// mounted nosuid. It gets a directory of its own: a tmpfs over /tmp would hide a
// build tree under /tmp, and with it the workload programs.
bool prepare_setuid_copy(std::string& error) {
  const std::string dir = "/tmp/nozero-kselftest." + std::to_string(getpid());
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
    error = "cannot create " + dir + ": " + std::strerror(errno);
    return false;
  }
  if (unshare(CLONE_NEWNS) != 0 || mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      mount("nozero-test", dir.c_str(), "tmpfs", 0, "mode=0755") != 0) {
    error = "cannot mount a private tmpfs on " + dir + ": " + std::strerror(errno);
    return false;
  }
  g_self = dir + "/nozero-kselftest";
  g_suid_copy = dir + "/nozero-kselftest-suid";
  std::error_code ec;
  std::filesystem::copy_file("/proc/self/exe", g_self, ec);
  if (ec) {
    error = "cannot copy /proc/self/exe: " + ec.message();
    return false;
  }
  std::filesystem::copy_file("/proc/self/exe", g_suid_copy, ec);
  if (ec || chmod(g_self.c_str(), 0755) != 0 || chmod(g_suid_copy.c_str(), 04755) != 0) {
    error = "cannot prepare the setuid copy";
    return false;
  }
  return true;
}

int run_suite() {
  std::printf("KTAP version 1\n");
  if (geteuid() != 0) {
    std::printf("1..0 # SKIP must run as root to switch users\n");
    return kExitSkip;
  }
  std::error_code ec;
  g_bin_dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path().string();
  std::string error;
  if (!prepare_setuid_copy(error)) {
    std::printf("1..0 # SKIP %s\n", error.c_str());
    return kExitSkip;
  }
  g_supported = std::filesystem::exists(uapi::kSysctlPath);
  auto need_series = []() -> std::optional<std::string> {
    if (g_supported) return std::nullopt;
    return "MAP_NOZERO not supported by this kernel";
  };
  auto need_unpatched = []() -> std::optional<std::string> {
    if (!g_supported) return std::nullopt;
    return "the kernel has the MAP_NOZERO series";
  };
  auto need_thp = []() -> std::optional<std::string> {
    if (!g_supported) return "MAP_NOZERO not supported by this kernel";
    if (!vmstat_has(uapi::kVmstatThpReuse)) return "large folio recycling not in this kernel";
    if (!thp_available()) return "transparent huge pages are disabled";
    return std::nullopt;
  };

  std::vector<Test> tests = {
      {"unpatched kernel zeroes MAP_NOZERO pages", need_unpatched, test_unpatched_zeroes},
      {"smaps shows nz for private anonymous only", need_series, test_smaps_flag},
      {"vma flag survives split and mremap", need_series, test_vma_split_merge},
      {"same owner reuses pages", need_series, test_reuse_same_owner},
      {"no page crosses owners", need_series, test_no_leak_across_owners},
      {"non-dumpable neither donates nor receives", need_series, test_nondumpable},
      {"setuid exec neither donates nor receives", need_series, test_setuid_exec},
      {"uid change drops the class", need_series, test_credential_change},
      {"vm.nozero=0 recycles nothing", need_series, test_sysctl_off},
      {"PR_SET_NOZERO is inherited through exec", need_series, test_prctl},
      {"brk2 BRK_NOZERO heap reuses pages", need_series, test_brk2},
      {"malloc program reuses heap pages", need_series, test_malloc_program},
      {"huge folios reused without clearing", need_thp, test_thp_reuse},
      {"workload programs keep owners apart", need_workloads, test_workloads_keep_owners_apart},
      {"unmodified programs stay correct under nozero-exec", need_workloads, test_unmodified_programs},
  };

  std::printf("1..%zu\n", tests.size());
  std::fflush(stdout);
  int number = 0;
  int skipped = 0;
  for (const Test& t : tests) {
    ++number;
    if (auto reason = t.enabled()) {
      ++skipped;
      std::printf("ok %d %s # SKIP %s\n", number, t.name.c_str(), reason->c_str());
      std::fflush(stdout);
      continue;
    }
    bool passed = t.body();
    if (!passed) ++g_failed;
    std::printf("%sok %d %s\n", passed ? "" : "not ", number, t.name.c_str());
    std::fflush(stdout);
  }
  std::printf("# Totals: pass:%d fail:%d skip:%d\n", number - g_failed - skipped, g_failed, skipped);
  return g_failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "--role") {
    auto options = parse_role(argc, argv);
    if (!options) return kExitUsage;
    setvbuf(stdout, nullptr, _IOLBF, 0);
    return run_role(*options);
  }
  if (argc > 1) {
    std::fprintf(stderr, "usage: %s  (no arguments; run as root in a guest)\n", argv[0]);
    return kExitUsage;
  }
  return run_suite();
}

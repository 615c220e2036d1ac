// replay_main.cpp — a main() for the fuzz targets in builds without libFuzzer
// (the normal g++ test build): runs LLVMFuzzerTestOneInput once on every file
// named on the command line, or in a directory named there (sorted, so the
// order is stable). A property violation aborts, which fails the CTest.
//
// Exit status: 0 when every input ran, 1 when an argument is unreadable or
// there was no input at all (an empty corpus is a mistake worth noticing).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

bool run_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
    return false;
  }
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // A copy in a buffer of exactly the input's size, so that ASan (when on)
  // catches a read past the end as libFuzzer would.
  std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
  (void)LLVMFuzzerTestOneInput(data.empty() ? nullptr : data.data(), data.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    std::error_code ec;
    if (std::filesystem::is_directory(arg, ec)) {
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::directory_iterator(arg, ec)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) {
        if (!run_file(f)) return 1;
        ++count;
      }
    } else {
      if (!run_file(arg)) return 1;
      ++count;
    }
  }
  std::printf("replay: %zu inputs, no property violated\n", count);
  return count == 0 ? 1 : 0;
}

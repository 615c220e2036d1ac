// bench_util.hpp — timing for the benchmarks under tests/bench/.
//
// measure() runs a body in batches until a time budget is spent and reports
// the median nanoseconds per call over several batches, which is stable
// enough on a shared two-core machine to compare an operation with its floor
// measured moments apart in the same process. It also reports the fastest
// batch: on a loaded machine, noise only ever adds time, so many short
// batches and their minimum estimate the undisturbed cost best.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace sotto::bench {

// Keeps the optimiser from deleting work whose result is unused.
template <class T>
inline void keep(const T& value) {
  asm volatile("" : : "g"(&value) : "memory");
}

struct Figure {
  double ns_per_op = 0;  // median batch
  std::uint64_t ops = 0;
  double best_ns_per_op = 0;  // fastest batch
};

template <class Body>
Figure measure(Body&& body, int batches = 7, double batch_ms = 60.0) {
  using clock = std::chrono::steady_clock;
  // Calibrate: how many calls fit in one batch.
  std::uint64_t per_batch = 1;
  for (;;) {
    auto t0 = clock::now();
    for (std::uint64_t i = 0; i < per_batch; ++i) body();
    double ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    if (ms >= batch_ms / 4 || per_batch > (1u << 24)) {
      per_batch =
          std::max<std::uint64_t>(1, static_cast<std::uint64_t>(static_cast<double>(per_batch) *
                                                                batch_ms / std::max(ms, 1e-3)));
      break;
    }
    per_batch *= 4;
  }
  std::vector<double> samples;
  std::uint64_t total = 0;
  for (int b = 0; b < batches; ++b) {
    auto t0 = clock::now();
    for (std::uint64_t i = 0; i < per_batch; ++i) body();
    double ns = std::chrono::duration<double, std::nano>(clock::now() - t0).count();
    samples.push_back(ns / static_cast<double>(per_batch));
    total += per_batch;
  }
  std::sort(samples.begin(), samples.end());
  return {samples[samples.size() / 2], total, samples.front()};
}

}  // namespace sotto::bench

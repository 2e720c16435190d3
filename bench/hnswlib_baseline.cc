#include "bench/hnswlib_baseline.h"

// hnswlib 0.6.2's hnswlib.h defines ordinary (non-inline) functions and variables
// (cpuid, AVXCapable, hnswlib::InnerProductSIMD16Ext, ...). src/index/hnsw_graph.cc
// includes it too and is linked into this binary through mnemo_index, so a second plain
// include would define those symbols twice. Wrapping the include in a namespace gives
// every hnswlib symbol of this file a distinct mangled name. For that to be sound, every
// system header hnswlib includes is included first, at global scope, so that its
// include guard keeps it out of the namespace.
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <deque>
#include <fstream>
#include <iostream>
#include <list>
#include <mutex>
#include <queue>
#include <random>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>
#include <vector>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#include <x86intrin.h>
#endif

namespace mnemo_bench_hnswlib {
#include <hnswlib/hnswlib.h>
}  // namespace mnemo_bench_hnswlib

#include <exception>
#include <string>

namespace mnemo::bench {

namespace h = ::mnemo_bench_hnswlib::hnswlib;

struct HnswlibBaseline::Impl {
  // Declared first so that it outlives the index, which keeps a pointer to it.
  std::unique_ptr<h::InnerProductSpace> space;
  std::unique_ptr<h::HierarchicalNSW<float>> index;
};

HnswlibBaseline::HnswlibBaseline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HnswlibBaseline::~HnswlibBaseline() = default;

Result<std::unique_ptr<HnswlibBaseline>> HnswlibBaseline::Create(int dimension, size_t capacity,
                                                                 size_t m, size_t ef_construction) {
  auto impl = std::make_unique<Impl>();
  try {
    impl->space = std::make_unique<h::InnerProductSpace>(static_cast<size_t>(dimension));
    impl->index = std::make_unique<h::HierarchicalNSW<float>>(impl->space.get(), capacity, m,
                                                              ef_construction);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("hnswlib: cannot create the index: ") + e.what());
  }
  return std::unique_ptr<HnswlibBaseline>(new HnswlibBaseline(std::move(impl)));
}

Status HnswlibBaseline::Add(const float* vector, uint64_t label) {
  try {
    impl_->index->addPoint(vector, static_cast<size_t>(label));
  } catch (const std::exception& e) {
    return Status::Internal(std::string("hnswlib: addPoint failed: ") + e.what());
  }
  return Status::Ok();
}

void HnswlibBaseline::SetEf(size_t ef) { impl_->index->setEf(ef); }

Result<std::vector<uint64_t>> HnswlibBaseline::Search(const float* query, size_t k) const {
  std::vector<uint64_t> out;
  try {
    auto found = impl_->index->searchKnn(query, k);
    out.reserve(found.size());
    for (; !found.empty(); found.pop()) out.push_back(found.top().second);
    std::reverse(out.begin(), out.end());  // the queue pops the farthest first
  } catch (const std::exception& e) {
    return Status::Internal(std::string("hnswlib: search failed: ") + e.what());
  }
  return out;
}

}  // namespace mnemo::bench

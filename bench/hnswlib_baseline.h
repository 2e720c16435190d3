// Baseline: plain hnswlib (HierarchicalNSW<float>, inner-product space) over float
// vectors, to compare the engine's own int8 HNSW (src/index/hnsw.h) against the library
// it replaced.
//
// Kept behind this small interface because hnswlib.h defines non-inline functions and
// variables: only hnswlib_baseline.cc includes it.
//
// Thread safety: Add() may be called from several threads at once (hnswlib locks per
// node); Search() may run concurrently with other Search() calls once building is done.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "mnemo/status.h"

namespace mnemo::bench {

class HnswlibBaseline {
 public:
  // An empty index for `capacity` vectors of `dimension` floats.
  static Result<std::unique_ptr<HnswlibBaseline>> Create(int dimension, size_t capacity, size_t m,
                                                         size_t ef_construction);
  ~HnswlibBaseline();
  HnswlibBaseline(const HnswlibBaseline&) = delete;
  HnswlibBaseline& operator=(const HnswlibBaseline&) = delete;

  Status Add(const float* vector, uint64_t label);
  // Search breadth for later searches. Not synchronized: call before searching.
  void SetEf(size_t ef);
  // Labels of the k nearest vectors (largest inner product), most similar first.
  Result<std::vector<uint64_t>> Search(const float* query, size_t k) const;

 private:
  struct Impl;
  explicit HnswlibBaseline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mnemo::bench

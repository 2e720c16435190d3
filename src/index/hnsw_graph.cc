#include "index/hnsw_graph.h"

// hnswlib 0.6.2 (with USE_SSE, the default on x86-64) prefetches each neighbour's vector
// through `*(links + j + 1)`, which on a full upper-layer link list reads 3 bytes past
// the end of its malloc'd block ((4 M + 4) * levels + 1 bytes, not a multiple of 8).
// Allocators round blocks up to a multiple of 8, so the read stays inside the allocation
// and only feeds a prefetch hint, and the prefetches make searches 1.2-1.7x and inserts
// up to 1.5x faster (README.md). AddressSanitizer rightly reports the read, so sanitized builds
// compile hnswlib without them.
#if defined(__SANITIZE_ADDRESS__)
#define NO_MANUAL_VECTORIZATION
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_MANUAL_VECTORIZATION
#endif
#endif
// With USE_SSE, hnswlib.h also defines non-inline functions (cpuid, AVXCapable): this
// must stay the only file that includes it, or the link fails.
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <fstream>
#include <limits>
#include <unordered_set>
#include <utility>

#include "index/quantize.h"

namespace mnemo::index {
namespace {

using Hnsw = hnswlib::HierarchicalNSW<float>;
using hnswlib::labeltype;
using hnswlib::tableint;

// Search breadth hnswlib uses when it exceeds the requested count. searchKnn() searches
// with max(ef_, k), and setEf() writes a plain member that concurrent searches read,
// so we set it once, to 1, before the graph is shared, and never again: the count each
// search asks for is then its breadth, which gives every search its own ef without a
// data race (0.6.2 has no per-query ef).
constexpr size_t kFixedEf = 1;

// The distance space over quantized blobs: 1 - dot, smaller is closer.
class QuantizedSpace final : public hnswlib::SpaceInterface<float> {
 public:
  explicit QuantizedSpace(int dimension) : blob_size_(QuantizedSize(dimension)) {}

  size_t get_data_size() override { return blob_size_; }
  hnswlib::DISTFUNC<float> get_dist_func() override { return &Distance; }
  // hnswlib hands this pointer back to Distance() as its third argument.
  void* get_dist_func_param() override { return &blob_size_; }

 private:
  static float Distance(const void* a, const void* b, const void* param) {
    const size_t n = *static_cast<const size_t*>(param);
    return 1.0f - QuantizedDot(std::string_view(static_cast<const char*>(a), n),
                               std::string_view(static_cast<const char*>(b), n));
  }

  size_t blob_size_;
};

// hnswlib's serialisation header (saveIndex/loadIndex in hnswalg.h, 0.6.2), field by
// field in host byte order.
struct PayloadHeader {
  size_t offset_level0;
  size_t max_elements;
  size_t element_count;
  size_t size_data_per_element;
  size_t label_offset;
  size_t offset_data;
  int max_level;
  tableint entry_point;
  size_t max_m;
  size_t max_m0;
  size_t m;
  double mult;
  size_t ef_construction;
};

template <typename T>
bool ReadPod(std::istream& in, T* value) {
  in.read(reinterpret_cast<char*>(value), sizeof(T));
  return bool(in);
}

bool ReadPayloadHeader(std::istream& in, PayloadHeader* h) {
  return ReadPod(in, &h->offset_level0) && ReadPod(in, &h->max_elements) &&
         ReadPod(in, &h->element_count) && ReadPod(in, &h->size_data_per_element) &&
         ReadPod(in, &h->label_offset) && ReadPod(in, &h->offset_data) &&
         ReadPod(in, &h->max_level) && ReadPod(in, &h->entry_point) && ReadPod(in, &h->max_m) &&
         ReadPod(in, &h->max_m0) && ReadPod(in, &h->m) && ReadPod(in, &h->mult) &&
         ReadPod(in, &h->ef_construction);
}

constexpr size_t kPayloadHeaderSize =
    10 * sizeof(size_t) + sizeof(int) + sizeof(tableint) + sizeof(double);

// Checks the layout of an hnswlib file before loadIndex() trusts it: loadIndex mallocs
// and reads whatever sizes the file claims, and a wrong per-element size or level count
// turns into out-of-bounds reads later. Mirrors loadIndex's own walk, strictly.
Status ValidatePayload(const std::string& file, size_t blob_size, const std::string& what,
                       size_t* element_count) {
  auto bad = [&](const std::string& why) {
    return Status::Corruption(what + ": invalid graph payload: " + why);
  };
  std::ifstream in(file, std::ios::binary);
  if (!in) return bad("cannot reopen the extracted payload");
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<uint64_t>(in.tellg());
  in.seekg(0, std::ios::beg);
  PayloadHeader h{};
  if (!ReadPayloadHeader(in, &h)) return bad("truncated header");
  if (h.m < 2 || h.m > 10000 || h.max_m != h.m || h.max_m0 != 2 * h.m) {
    return bad("implausible M=" + std::to_string(h.m));
  }
  if (!std::isfinite(h.mult) || h.mult <= 0) return bad("implausible level multiplier");
  const size_t links0 = h.max_m0 * sizeof(tableint) + sizeof(hnswlib::linklistsizeint);
  const size_t links_upper = h.max_m * sizeof(tableint) + sizeof(hnswlib::linklistsizeint);
  if (h.offset_level0 != 0 || h.offset_data != links0 || h.label_offset != links0 + blob_size ||
      h.size_data_per_element != links0 + blob_size + sizeof(labeltype)) {
    return bad("element layout does not match " + std::to_string(blob_size) + "-byte vectors");
  }
  if (h.element_count > h.max_elements ||
      h.element_count > std::numeric_limits<tableint>::max() / 2 ||
      h.element_count > (file_size - kPayloadHeaderSize) / h.size_data_per_element) {
    return bad("element count " + std::to_string(h.element_count) + " exceeds the payload");
  }
  if (h.element_count == 0) {
    if (h.max_level != -1) return bad("empty graph with a top level");
  } else if (h.max_level < 0 || h.max_level > 255 || h.entry_point >= h.element_count) {
    return bad("entry point or top level out of range");
  }
  in.seekg(
      static_cast<std::streamoff>(kPayloadHeaderSize + h.element_count * h.size_data_per_element));
  for (size_t i = 0; i < h.element_count; ++i) {
    uint32_t list_bytes = 0;
    if (!ReadPod(in, &list_bytes)) return bad("truncated link lists");
    if (list_bytes % links_upper != 0 || list_bytes / links_upper > size_t(h.max_level)) {
      return bad("link list of node " + std::to_string(i) + " has an invalid size");
    }
    in.seekg(list_bytes, std::ios::cur);
  }
  if (!in || static_cast<uint64_t>(in.tellg()) != file_size) {
    return bad("size does not match its contents");
  }
  *element_count = h.element_count;
  return Status::Ok();
}

}  // namespace

class HnswGraph::Impl {
 public:
  // Declared first so it is destroyed last: hnsw_ keeps pointers into it.
  std::unique_ptr<QuantizedSpace> space;
  std::unique_ptr<Hnsw> hnsw;
  size_t blob_size = 0;

  // Checks the graph hnswlib built from a validated file: every link must name an
  // existing node that has the linked level, so searches never read out of bounds.
  Status CheckLinks(const std::string& what) const;
};

Status HnswGraph::Impl::CheckLinks(const std::string& what) const {
  const Hnsw& g = *hnsw;
  const size_t count = g.cur_element_count;
  auto bad = [&](const std::string& why) {
    return Status::Corruption(what + ": invalid graph: " + why);
  };
  if (count > 0 && g.element_levels_[g.enterpoint_node_] != g.maxlevel_) {
    return bad("entry point is not on the top level");
  }
  std::unordered_set<labeltype> labels;
  labels.reserve(count);
  for (tableint i = 0; i < count; ++i) {
    if (!labels.insert(g.getExternalLabel(i)).second) {
      return bad("two nodes share id " + std::to_string(int64_t(g.getExternalLabel(i))));
    }
    for (int level = 0; level <= g.element_levels_[i]; ++level) {
      hnswlib::linklistsizeint* list = g.get_linklist_at_level(i, level);
      const size_t n = g.getListCount(list);
      if (n > (level == 0 ? g.maxM0_ : g.maxM_)) return bad("overfull link list");
      const tableint* links = reinterpret_cast<const tableint*>(list + 1);
      for (size_t j = 0; j < n; ++j) {
        if (links[j] >= count || g.element_levels_[links[j]] < level) {
          return bad("link to a missing node");
        }
      }
    }
  }
  return Status::Ok();
}

HnswGraph::HnswGraph(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HnswGraph::~HnswGraph() = default;

Result<std::unique_ptr<HnswGraph>> HnswGraph::Create(int dimension) {
  auto impl = std::make_unique<Impl>();
  impl->blob_size = QuantizedSize(dimension);
  impl->space = std::make_unique<QuantizedSpace>(dimension);
  try {
    impl->hnsw = std::make_unique<Hnsw>(impl->space.get(), kHnswInitialCapacity, kHnswM,
                                        kHnswEfConstruction);
  } catch (const std::exception& e) {
    return Status::Internal(std::string("cannot create the HNSW graph: ") + e.what());
  }
  impl->hnsw->num_deleted_ = 0;  // the constructor leaves it uninitialised
  impl->hnsw->metric_hops = 0;
  impl->hnsw->metric_distance_computations = 0;
  impl->hnsw->setEf(kFixedEf);
  return std::make_unique<HnswGraph>(std::move(impl));
}

Result<std::unique_ptr<HnswGraph>> HnswGraph::LoadFile(const std::string& file, int dimension,
                                                       const std::string& what) {
  auto impl = std::make_unique<Impl>();
  impl->blob_size = QuantizedSize(dimension);
  impl->space = std::make_unique<QuantizedSpace>(dimension);
  size_t count = 0;
  MNEMO_RETURN_IF_ERROR(ValidatePayload(file, impl->blob_size, what, &count));

  // hnswlib's loading constructor initialises neither num_deleted_ (which loadIndex
  // increments) nor the pointers its destructor frees if loadIndex throws half-way.
  // Start from the bare constructor with every such member set, and load explicitly.
  impl->hnsw = std::make_unique<Hnsw>(impl->space.get());
  Hnsw& g = *impl->hnsw;
  g.data_level0_memory_ = nullptr;
  g.linkLists_ = nullptr;
  g.visited_list_pool_ = nullptr;
  g.cur_element_count = 0;
  g.num_deleted_ = 0;
  g.metric_hops = 0;
  g.metric_distance_computations = 0;
  try {
    // At least the node count, so that loadIndex never sizes its arrays by the
    // file's own (unchecked) capacity field.
    g.loadIndex(file, impl->space.get(), std::max(kHnswInitialCapacity, count));
  } catch (const std::exception& e) {
    g.cur_element_count = 0;  // leak partial link lists rather than free garbage
    return Status::Corruption(what + ": hnswlib rejected the graph: " + e.what());
  }
  g.setEf(kFixedEf);
  if (g.data_size_ != impl->blob_size ||
      g.size_data_per_element_ != g.size_links_level0_ + impl->blob_size + sizeof(labeltype)) {
    return Status::Corruption(what + ": graph element size does not match the dimension");
  }
  if (g.label_lookup_.size() != g.cur_element_count) {
    return Status::Corruption(what + ": graph has " + std::to_string(g.cur_element_count) +
                              " nodes but " + std::to_string(g.label_lookup_.size()) + " ids");
  }
  MNEMO_RETURN_IF_ERROR(impl->CheckLinks(what));
  return std::make_unique<HnswGraph>(std::move(impl));
}

Result<uint64_t> HnswGraph::SaveFile(const std::string& file) const {
  const Hnsw& g = *impl_->hnsw;
  uint64_t expected = kPayloadHeaderSize + g.cur_element_count * g.size_data_per_element_;
  for (size_t i = 0; i < g.cur_element_count; ++i) {
    expected += sizeof(uint32_t) + g.size_links_per_element_ * size_t(g.element_levels_[i]);
  }
  try {
    // saveIndex is logically const but not declared so in 0.6.2.
    const_cast<Hnsw&>(g).saveIndex(file);
  } catch (const std::exception& e) {
    return Status::IOError("cannot write " + file + ": " + e.what());
  }
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  const auto written = in ? static_cast<int64_t>(in.tellg()) : -1;
  if (written < 0 || uint64_t(written) != expected) {
    return Status::IOError("cannot write " + file + ": wrote " + std::to_string(written) + " of " +
                           std::to_string(expected) + " bytes (disk full?)");
  }
  return expected;
}

Status HnswGraph::Upsert(MemoryId id, std::string_view blob) {
  if (blob.size() != impl_->blob_size) {
    return Status::InvalidArgument("vector of " + std::to_string(blob.size()) +
                                   " bytes, expected " + std::to_string(impl_->blob_size));
  }
  Hnsw& g = *impl_->hnsw;
  const auto label = static_cast<labeltype>(id);
  try {
    auto it = g.label_lookup_.find(label);
    if (it != g.label_lookup_.end()) {
      if (g.isMarkedDeleted(it->second)) g.unmarkDeletedInternal(it->second);
    } else if (g.cur_element_count >= g.max_elements_) {
      g.resizeIndex(std::max<size_t>(kHnswInitialCapacity, 2 * g.max_elements_));
    }
    // On an existing label, addPoint replaces the vector and repairs its links.
    g.addPoint(blob.data(), label);
  } catch (const std::exception& e) {
    return Status::Internal("HNSW insert of " + std::to_string(id) + " failed: " + e.what());
  }
  return Status::Ok();
}

Status HnswGraph::Remove(MemoryId id) {
  Hnsw& g = *impl_->hnsw;
  auto it = g.label_lookup_.find(static_cast<labeltype>(id));
  if (it == g.label_lookup_.end() || g.isMarkedDeleted(it->second)) return Status::Ok();
  try {
    g.markDeletedInternal(it->second);
  } catch (const std::exception& e) {
    return Status::Internal("HNSW removal of " + std::to_string(id) + " failed: " + e.what());
  }
  return Status::Ok();
}

void HnswGraph::ZeroVector(MemoryId id) {
  Hnsw& g = *impl_->hnsw;
  auto it = g.label_lookup_.find(static_cast<labeltype>(id));
  if (it == g.label_lookup_.end()) return;
  std::fill_n(g.getDataByInternalId(it->second), impl_->blob_size, '\0');
}

Result<std::vector<HnswGraph::Hit>> HnswGraph::Search(std::string_view query_blob, size_t n) const {
  std::vector<Hit> hits;
  const Hnsw& g = *impl_->hnsw;
  if (n == 0 || query_blob.size() != impl_->blob_size) return hits;
  try {
    auto found = g.searchKnn(query_blob.data(), n);
    hits.reserve(found.size());
    for (; !found.empty(); found.pop()) {
      auto it = g.label_lookup_.find(found.top().second);
      if (it == g.label_lookup_.end()) continue;
      hits.push_back({static_cast<MemoryId>(found.top().second),
                      std::string_view(g.getDataByInternalId(it->second), impl_->blob_size)});
    }
  } catch (const std::exception& e) {
    return Status::Internal(std::string("HNSW search failed: ") + e.what());
  }
  return hits;
}

std::optional<std::string_view> HnswGraph::LiveVector(MemoryId id) const {
  const Hnsw& g = *impl_->hnsw;
  auto it = g.label_lookup_.find(static_cast<labeltype>(id));
  if (it == g.label_lookup_.end() || g.isMarkedDeleted(it->second)) return std::nullopt;
  return std::string_view(g.getDataByInternalId(it->second), impl_->blob_size);
}

bool HnswGraph::NodeAt(size_t internal, MemoryId* id, std::string_view* blob) const {
  const Hnsw& g = *impl_->hnsw;
  const auto i = static_cast<tableint>(internal);
  if (g.isMarkedDeleted(i)) return false;
  *id = static_cast<MemoryId>(g.getExternalLabel(i));
  *blob = std::string_view(g.getDataByInternalId(i), impl_->blob_size);
  return true;
}

size_t HnswGraph::live_count() const {
  return impl_->hnsw->cur_element_count - impl_->hnsw->num_deleted_;
}
size_t HnswGraph::node_count() const { return impl_->hnsw->cur_element_count; }
size_t HnswGraph::capacity() const { return impl_->hnsw->max_elements_; }

}  // namespace mnemo::index

#include "index/hnsw.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <new>
#include <queue>
#include <thread>

#include "index/quantize.h"
#include "index/wire.h"

namespace mnemo::index {
namespace {

constexpr uint8_t kReserved = 0;  // being inserted: not reachable yet
constexpr uint8_t kLive = 1;
constexpr uint8_t kRemoved = 2;

uint64_t Pack(uint32_t node, int level) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(level)) << 32) | node;
}
uint32_t NodeOf(uint64_t e) { return static_cast<uint32_t>(e & 0xffffffffu); }
int LevelOf(uint64_t e) { return static_cast<int>(e >> 32); }

struct Closer {
  bool operator()(const Hnsw::Hit& a, const Hnsw::Hit& b) const {
    return a.distance != b.distance ? a.distance > b.distance : a.node > b.node;
  }
};
struct Farther {
  bool operator()(const Hnsw::Hit& a, const Hnsw::Hit& b) const {
    return a.distance != b.distance ? a.distance < b.distance : a.node < b.node;
  }
};

// Visited marks of one thread's searches: a tag per node, a fresh epoch per search.
struct Visited {
  std::vector<uint16_t> tags;
  uint16_t epoch = 0;
  void Start(size_t n) {
    if (tags.size() < n) tags.resize(std::max(n, tags.size() * 2), 0);
    if (++epoch == 0) {
      std::fill(tags.begin(), tags.end(), 0);
      epoch = 1;
    }
  }
  // True the first time `node` is seen in this search (a node published after the
  // search started grows the marks).
  bool Visit(uint32_t node) {
    if (node >= tags.size()) tags.resize(std::max<size_t>(node + 1, tags.size() * 2), 0);
    if (tags[node] == epoch) return false;
    tags[node] = epoch;
    return true;
  }
};

Visited& ThreadVisited() {
  static thread_local Visited v;
  return v;
}

}  // namespace

struct Hnsw::Chunk {
  explicit Chunk(size_t record_bytes)
      : records(new uint64_t[kChunkSize * record_bytes / 8]()),
        upper(new std::unique_ptr<uint32_t[]>[kChunkSize]) {
    for (uint32_t i = 0; i < kChunkSize; ++i) {
      state[i].store(kReserved, std::memory_order_relaxed);
      lock[i].store(0, std::memory_order_relaxed);
    }
  }
  std::unique_ptr<uint64_t[]> records;                   // kChunkSize records (8-byte aligned)
  std::unique_ptr<std::unique_ptr<uint32_t[]>[]> upper;  // levels x (1 + M)
  MemoryId ids[kChunkSize] = {};
  uint8_t levels[kChunkSize] = {};
  std::atomic<uint8_t> state[kChunkSize];
  std::atomic<uint8_t> lock[kChunkSize];
};

namespace {
// The distance of two blobs of `dim` codes then a float scale (quantize.h): 1 - their
// approximate cosine. Two kernels; the graph picks the AVX2 one when the CPU has it.
float BlobDistancePortable(const char* a, const char* b, size_t dim) {
  const auto* x = reinterpret_cast<const int8_t*>(a);
  const auto* y = reinterpret_cast<const int8_t*>(b);
  int32_t lanes[16] = {};
  size_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    for (size_t j = 0; j < 16; ++j) lanes[j] += int32_t(x[i + j]) * int32_t(y[i + j]);
  }
  int32_t sum = 0;
  for (; i < dim; ++i) sum += int32_t(x[i]) * int32_t(y[i]);
  for (int32_t v : lanes) sum += v;
  float sa, sb;
  std::memcpy(&sa, a + dim, sizeof sa);  // little-endian hosts (the blob's byte order)
  std::memcpy(&sb, b + dim, sizeof sb);
  return 1.0f - float(sum) * (sa * sb);
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) float BlobDistanceAvx2(const char* a, const char* b, size_t dim) {
  __m256i acc0 = _mm256_setzero_si256();
  __m256i acc1 = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 32 <= dim; i += 32) {
    const __m256i a0 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)));
    const __m256i b0 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)));
    const __m256i a1 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i + 16)));
    const __m256i b1 =
        _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i + 16)));
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(a0, b0));
    acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(a1, b1));
  }
  const __m256i acc = _mm256_add_epi32(acc0, acc1);
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  s = _mm_hadd_epi32(s, s);
  s = _mm_hadd_epi32(s, s);
  int32_t sum = _mm_cvtsi128_si32(s);
  for (; i < dim; ++i) sum += int32_t(int8_t(a[i])) * int32_t(int8_t(b[i]));
  float sa, sb;
  std::memcpy(&sa, a + dim, sizeof sa);
  std::memcpy(&sb, b + dim, sizeof sb);
  return 1.0f - float(sum) * (sa * sb);
}
#endif

using DistanceFn = float (*)(const char*, const char*, size_t);
DistanceFn PickDistance() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2")) return BlobDistanceAvx2;
#endif
  return BlobDistancePortable;
}
const DistanceFn kBlobDistance = PickDistance();

static_assert(std::endian::native == std::endian::little,
              "hnsw.cc reads blob scales in host order; add a byte swap for big-endian hosts");

// Neighbour lists are plain u32 arrays accessed atomically (readers race with inserters).
uint32_t LoadLink(const uint32_t* p, std::memory_order order = std::memory_order_relaxed) {
  return std::atomic_ref<uint32_t>(*const_cast<uint32_t*>(p)).load(order);
}
void StoreLink(uint32_t* p, uint32_t v, std::memory_order order = std::memory_order_relaxed) {
  std::atomic_ref<uint32_t>(*p).store(v, order);
}
}  // namespace

Hnsw::Hnsw(int dimension, Params params)
    : dimension_(dimension),
      blob_size_(QuantizedSize(dimension)),
      m_(std::max<size_t>(params.m, 2)),
      m0_(2 * std::max<size_t>(params.m, 2)),
      ef_construction_(std::max<size_t>(params.ef_construction, 1)),
      level_mult_(1.0 / std::log(static_cast<double>(std::max<size_t>(params.m, 2)))),
      links0_bytes_((1 + m0_) * sizeof(uint32_t)),
      record_bytes_((links0_bytes_ + blob_size_ + 7) / 8 * 8),
      chunks_(new std::atomic<Chunk*>[kMaxChunks]),
      rng_(params.seed) {
  for (uint32_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

Hnsw::~Hnsw() {
  for (uint32_t i = 0; i < kMaxChunks; ++i) delete chunks_[i].load(std::memory_order_relaxed);
}

inline Hnsw::Chunk& Hnsw::ChunkOf(uint32_t node) const {
  return *chunks_[node >> kChunkBits].load(std::memory_order_acquire);
}

uint32_t Hnsw::Reserve() {
  const uint32_t node = reserved_.fetch_add(1, std::memory_order_acq_rel);
  const uint32_t c = node >> kChunkBits;
  if (chunks_[c].load(std::memory_order_acquire) == nullptr) {
    std::lock_guard<std::mutex> lock(grow_mu_);
    if (chunks_[c].load(std::memory_order_relaxed) == nullptr) {
      chunks_[c].store(new Chunk(record_bytes_), std::memory_order_release);
    }
  }
  return node;
}

inline char* Hnsw::Record(uint32_t node) const {
  Chunk& c = ChunkOf(node);
  return reinterpret_cast<char*>(c.records.get()) +
         static_cast<size_t>(node & (kChunkSize - 1)) * record_bytes_;
}

uint32_t* Hnsw::Links(uint32_t node, int level) const {
  if (level == 0) return reinterpret_cast<uint32_t*>(Record(node));
  Chunk& c = ChunkOf(node);
  return &c.upper[node & (kChunkSize - 1)][static_cast<size_t>(level - 1) * (1 + m_)];
}

bool Hnsw::IsLive(uint32_t node) const {
  // A node counted in size() may sit in a chunk still being created (Reserve).
  const Chunk* c = chunks_[node >> kChunkBits].load(std::memory_order_acquire);
  return c != nullptr && c->state[node & (kChunkSize - 1)].load(std::memory_order_acquire) == kLive;
}

MemoryId Hnsw::IdOf(uint32_t node) const { return ChunkOf(node).ids[node & (kChunkSize - 1)]; }

std::string_view Hnsw::VectorOf(uint32_t node) const {
  return std::string_view(Vector(node), blob_size_);
}

void Hnsw::Prefetch(uint32_t node) const {
  const Chunk* c = chunks_[node >> kChunkBits].load(std::memory_order_acquire);
  if (c == nullptr) return;
  __builtin_prefetch(&c->state[node & (kChunkSize - 1)]);
  const char* v = Vector(node);
  for (size_t off = 0; off < blob_size_; off += 64) __builtin_prefetch(v + off);
}

// Defined inline: only this file calls them, from its inner loops.
inline float Hnsw::Distance(const char* a, uint32_t node) const {
  return kBlobDistance(a, Vector(node), static_cast<size_t>(dimension_));
}

int Hnsw::RandomLevel() {
  double u;
  {
    std::lock_guard<std::mutex> lock(rng_mu_);
    // splitmix64
    uint64_t z = (rng_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    u = (static_cast<double>(z >> 11) + 0.5) / 9007199254740992.0;  // (0, 1)
  }
  const int level = static_cast<int>(-std::log(u) * level_mult_);
  return std::min(level, kMaxLevel);
}

void Hnsw::Lock(uint32_t node) const {
  std::atomic<uint8_t>& l = ChunkOf(node).lock[node & (kChunkSize - 1)];
  for (;;) {
    uint8_t expected = 0;
    if (l.compare_exchange_weak(expected, 1, std::memory_order_acquire)) return;
    std::this_thread::yield();
  }
}

void Hnsw::Unlock(uint32_t node) const {
  ChunkOf(node).lock[node & (kChunkSize - 1)].store(0, std::memory_order_release);
}

uint32_t Hnsw::Greedy(const char* q, uint32_t start, int level) const {
  uint32_t cur = start;
  float best = Distance(q, cur);
  for (bool moved = true; moved;) {
    moved = false;
    const uint32_t* links = Links(cur, level);
    const uint32_t n = std::min<uint32_t>(LoadLink(links, std::memory_order_acquire),
                                          static_cast<uint32_t>(MaxLinks(level)));
    for (uint32_t i = 1; i <= n; ++i) {
      const uint32_t next = LoadLink(links + i);
      if (ChunkOf(next).state[next & (kChunkSize - 1)].load(std::memory_order_acquire) ==
          kReserved) {
        continue;
      }
      const float d = Distance(q, next);
      if (d < best) {
        best = d;
        cur = next;
        moved = true;
      }
    }
  }
  return cur;
}

std::vector<Hnsw::Hit> Hnsw::SearchLevel(const char* q, uint32_t start, size_t ef,
                                         int level) const {
  Visited& visited = ThreadVisited();
  visited.Start(size());
  // Heaps in reused thread-local buffers: nearest on top of `frontier`, farthest on top
  // of `best`.
  static thread_local std::vector<Hit> frontier;
  static thread_local std::vector<Hit> best;
  frontier.clear();
  best.clear();
  const Hit first{start, Distance(q, start)};
  visited.Visit(start);
  frontier.push_back(first);
  best.push_back(first);
  while (!frontier.empty()) {
    const Hit c = frontier.front();
    if (best.size() >= ef && c.distance > best.front().distance) break;
    std::pop_heap(frontier.begin(), frontier.end(), Closer());
    frontier.pop_back();
    const uint32_t* links = Links(c.node, level);
    const uint32_t n = std::min<uint32_t>(LoadLink(links, std::memory_order_acquire),
                                          static_cast<uint32_t>(MaxLinks(level)));
    // The unvisited neighbours first, their records prefetched together, then the
    // distances: the memory latency of ~30 random records overlaps instead of adding up.
    uint32_t fresh[kMaxLinksAtAnyLevel];
    uint32_t count = 0;
    for (uint32_t i = 1; i <= n; ++i) {
      const uint32_t next = LoadLink(links + i);
      if (!visited.Visit(next)) continue;
      if (ChunkOf(next).state[next & (kChunkSize - 1)].load(std::memory_order_acquire) ==
          kReserved) {
        continue;
      }
      const char* rec = Record(next) + links0_bytes_;
      __builtin_prefetch(rec);
      __builtin_prefetch(rec + 64);
      __builtin_prefetch(rec + 128);
      __builtin_prefetch(rec + 192);
      fresh[count++] = next;
    }
    for (uint32_t i = 0; i < count; ++i) {
      const uint32_t next = fresh[i];
      const float d = Distance(q, next);
      if (best.size() < ef || d < best.front().distance) {
        frontier.push_back(Hit{next, d});
        std::push_heap(frontier.begin(), frontier.end(), Closer());
        best.push_back(Hit{next, d});
        std::push_heap(best.begin(), best.end(), Farther());
        if (best.size() > ef) {
          std::pop_heap(best.begin(), best.end(), Farther());
          best.pop_back();
        }
      }
    }
  }
  std::vector<Hit> out(best.begin(), best.end());
  std::sort(out.begin(), out.end(), Farther());  // nearest first
  return out;
}

std::vector<uint32_t> Hnsw::SelectNeighbours(const std::vector<Hit>& candidates, size_t max) const {
  std::vector<uint32_t> kept;
  kept.reserve(max);
  for (const Hit& c : candidates) {
    if (kept.size() >= max) break;
    const char* cv = Vector(c.node);
    bool good = true;
    for (uint32_t k : kept) {
      if (Distance(cv, k) < c.distance) {
        good = false;
        break;
      }
    }
    if (good) kept.push_back(c.node);
  }
  return kept;
}

void Hnsw::Connect(uint32_t target, uint32_t node, int level) {
  Lock(target);
  uint32_t* links = Links(target, level);
  const uint32_t n = LoadLink(links);
  const size_t max = MaxLinks(level);
  for (uint32_t i = 1; i <= n; ++i) {
    if (LoadLink(links + i) == node) {
      Unlock(target);
      return;
    }
  }
  if (n < max) {
    StoreLink(links + n + 1, node);
    StoreLink(links, n + 1, std::memory_order_release);
  } else {
    const char* tv = Vector(target);
    std::vector<Hit> candidates;
    candidates.reserve(n + 1);
    candidates.push_back(Hit{node, Distance(tv, node)});
    for (uint32_t i = 1; i <= n; ++i) {
      const uint32_t other = LoadLink(links + i);
      candidates.push_back(Hit{other, Distance(tv, other)});
    }
    std::sort(candidates.begin(), candidates.end(), Farther());
    const std::vector<uint32_t> kept = SelectNeighbours(candidates, max);
    for (size_t i = 0; i < kept.size(); ++i) StoreLink(links + i + 1, kept[i]);
    StoreLink(links, static_cast<uint32_t>(kept.size()), std::memory_order_release);
  }
  Unlock(target);
}

uint32_t Hnsw::Insert(MemoryId id, std::string_view blob) {
  const uint32_t node = Reserve();
  Chunk& chunk = ChunkOf(node);
  const uint32_t i = node & (kChunkSize - 1);
  char* v = Record(node) + links0_bytes_;
  std::memcpy(v, blob.data(), std::min(blob.size(), blob_size_));
  chunk.ids[i] = id;
  const int level = RandomLevel();
  chunk.levels[i] = static_cast<uint8_t>(level);
  if (level > 0) {
    const size_t n = static_cast<size_t>(level) * (1 + m_);
    chunk.upper[i].reset(new uint32_t[n]());
  }
  uint64_t entry = entry_.load(std::memory_order_acquire);
  if (entry == kNone) {
    std::lock_guard<std::mutex> lock(entry_mu_);
    entry = entry_.load(std::memory_order_acquire);
    if (entry == kNone) {
      chunk.state[i].store(kLive, std::memory_order_release);
      live_.fetch_add(1, std::memory_order_relaxed);
      entry_.store(Pack(node, level), std::memory_order_release);
      return node;
    }
  }
  uint32_t ep = NodeOf(entry);
  const int top = LevelOf(entry);
  for (int lc = top; lc > level; --lc) ep = Greedy(v, ep, lc);
  std::vector<std::vector<uint32_t>> chosen(static_cast<size_t>(std::min(level, top) + 1));
  for (int lc = std::min(level, top); lc >= 0; --lc) {
    const std::vector<Hit> near = SearchLevel(v, ep, ef_construction_, lc);
    chosen[static_cast<size_t>(lc)] = SelectNeighbours(near, m_);
    uint32_t* own = Links(node, lc);
    const auto& kept = chosen[static_cast<size_t>(lc)];
    for (size_t k = 0; k < kept.size(); ++k) StoreLink(own + k + 1, kept[k]);
    StoreLink(own, static_cast<uint32_t>(kept.size()));
    ep = near.front().node;
  }
  // Published before anyone links to it.
  chunk.state[i].store(kLive, std::memory_order_release);
  live_.fetch_add(1, std::memory_order_relaxed);
  for (int lc = static_cast<int>(chosen.size()) - 1; lc >= 0; --lc) {
    for (uint32_t n : chosen[static_cast<size_t>(lc)]) Connect(n, node, lc);
  }
  if (level > top) {
    std::lock_guard<std::mutex> lock(entry_mu_);
    if (level > LevelOf(entry_.load(std::memory_order_relaxed))) {
      entry_.store(Pack(node, level), std::memory_order_release);
    }
  }
  return node;
}

void Hnsw::MarkRemoved(uint32_t node) {
  uint8_t expected = kLive;
  if (ChunkOf(node).state[node & (kChunkSize - 1)].compare_exchange_strong(
          expected, kRemoved, std::memory_order_acq_rel)) {
    live_.fetch_sub(1, std::memory_order_relaxed);
  }
}

void Hnsw::ZeroVector(uint32_t node) { std::memset(Record(node) + links0_bytes_, 0, blob_size_); }

std::vector<Hnsw::Hit> Hnsw::Search(std::string_view query_blob, size_t ef) const {
  const uint64_t entry = entry_.load(std::memory_order_acquire);
  if (entry == kNone || query_blob.size() != blob_size_ || ef == 0) return {};
  const char* q = query_blob.data();
  uint32_t ep = NodeOf(entry);
  for (int lc = LevelOf(entry); lc > 0; --lc) ep = Greedy(q, ep, lc);
  // Removed nodes route but take no place among the results: search wider when some of
  // the nearest are removed.
  std::vector<Hit> out;
  for (size_t breadth = ef;; breadth *= 2) {
    out = SearchLevel(q, ep, breadth, 0);
    std::erase_if(out, [&](const Hit& h) { return !IsLive(h.node); });
    if (out.size() >= ef || breadth >= std::max<size_t>(ef * 8, size())) break;
  }
  if (out.size() > ef) out.resize(ef);
  return out;
}

size_t Hnsw::MemoryBytes() const {
  const size_t chunks = (size() + kChunkSize - 1) / kChunkSize;
  return chunks * (sizeof(Chunk) + kChunkSize * record_bytes_) + kMaxChunks * sizeof(void*);
}

// ---- snapshot payload ----------------------------------------------------------------------

Status Hnsw::Serialize(const std::function<Status(std::string_view)>& sink) const {
  std::string buffer;
  std::string* out = &buffer;
  const uint32_t n = size();
  wire::PutU32(out, static_cast<uint32_t>(dimension_));
  wire::PutU32(out, static_cast<uint32_t>(m_));
  wire::PutU32(out, static_cast<uint32_t>(ef_construction_));
  wire::PutU32(out, n);
  wire::PutU64(out, entry_.load());
  for (uint32_t node = 0; node < n; ++node) {
    const Chunk& c = ChunkOf(node);
    const uint32_t i = node & (kChunkSize - 1);
    wire::PutI64(out, c.ids[i]);
    wire::PutU8(out, c.levels[i]);
    const uint8_t st = c.state[i].load();
    wire::PutU8(out, st == kLive ? kLive : kRemoved);  // a reserved node cannot exist here
    out->append(VectorOf(node));
    for (int lc = 0; lc <= c.levels[i]; ++lc) {
      const uint32_t* links = Links(node, lc);
      const uint32_t cnt = std::min<uint32_t>(LoadLink(links), static_cast<uint32_t>(MaxLinks(lc)));
      wire::PutU32(out, cnt);
      for (uint32_t k = 1; k <= cnt; ++k) wire::PutU32(out, LoadLink(links + k));
    }
    if (buffer.size() >= (size_t(1) << 20)) {
      MNEMO_RETURN_IF_ERROR(sink(buffer));
      buffer.clear();
    }
  }
  return sink(buffer);
}

Result<std::unique_ptr<Hnsw>> Hnsw::Parse(std::string_view in, int dimension) {
  wire::Reader r(in, 0);
  auto bad = [](const std::string& why) {
    return Status::Corruption("invalid graph payload: " + why);
  };
  uint32_t dim = 0, m = 0, efc = 0, n = 0;
  uint64_t entry = 0;
  if (!r.U32(&dim) || !r.U32(&m) || !r.U32(&efc) || !r.U32(&n) || !r.U64(&entry)) {
    return bad("truncated header");
  }
  if (static_cast<int>(dim) != dimension) return bad("dimension " + std::to_string(dim));
  if (m < 2 || m > 1024 || efc < 1 || efc > 100000) return bad("implausible M or ef");
  const size_t blob = QuantizedSize(dimension);
  if (n > r.remaining() / (blob + 14)) return bad("node count beyond the payload");
  Params p;
  p.m = m;
  p.ef_construction = efc;
  auto g = std::make_unique<Hnsw>(dimension, p);
  std::vector<uint8_t> levels(n);
  for (uint32_t node = 0; node < n; ++node) {
    if (g->Reserve() != node) return bad("reserve");
    Chunk& c = g->ChunkOf(node);
    const uint32_t i = node & (kChunkSize - 1);
    uint8_t level = 0, st = 0;
    if (!r.I64(&c.ids[i]) || !r.U8(&level) || !r.U8(&st)) return bad("truncated node");
    if (level > kMaxLevel || (st != kLive && st != kRemoved)) return bad("node header");
    c.levels[i] = level;
    levels[node] = level;
    if (r.remaining() < blob) return bad("truncated vector");
    std::memcpy(g->Record(node) + g->links0_bytes_, in.data() + r.pos(), blob);
    r.Seek(r.pos() + blob);
    if (level > 0) {
      c.upper[i].reset(new uint32_t[static_cast<size_t>(level) * (1 + g->m_)]());
    }
    for (int lc = 0; lc <= level; ++lc) {
      uint32_t cnt = 0;
      if (!r.U32(&cnt) || cnt > g->MaxLinks(lc)) return bad("link count");
      uint32_t* links = g->Links(node, lc);
      links[0] = cnt;
      for (uint32_t k = 1; k <= cnt; ++k) {
        uint32_t to = 0;
        if (!r.U32(&to) || to >= n) return bad("link target");
        links[k] = to;
      }
    }
    c.state[i].store(st, std::memory_order_relaxed);
    if (st == kLive) g->live_.fetch_add(1, std::memory_order_relaxed);
  }
  if (r.remaining() != 0) return bad("trailing bytes");
  // Links on level L must point at nodes that have level L.
  for (uint32_t node = 0; node < n; ++node) {
    for (int lc = 1; lc <= levels[node]; ++lc) {
      const uint32_t* links = g->Links(node, lc);
      for (uint32_t k = 1; k <= links[0]; ++k) {
        if (levels[links[k]] < lc) return bad("link to a lower node");
      }
    }
  }
  if (n == 0) {
    if (entry != kNone) return bad("entry point of an empty graph");
  } else if (NodeOf(entry) >= n || LevelOf(entry) != levels[NodeOf(entry)]) {
    return bad("entry point");
  }
  g->entry_.store(entry);
  std::atomic_thread_fence(std::memory_order_release);
  return g;
}

}  // namespace mnemo::index

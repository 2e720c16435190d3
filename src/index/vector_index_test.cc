#include "index/vector_index.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "index/quantize.h"

namespace mnemo::index {
namespace {

namespace fs = std::filesystem;

constexpr char kEmbedder[] = "test-embedder-v1";

std::vector<float> RandomUnit(std::mt19937* rng, int dim) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(static_cast<size_t>(dim));
  double norm2 = 0;
  for (float& x : v) {
    x = normal(*rng);
    norm2 += double(x) * x;
  }
  for (float& x : v) x = float(x / std::sqrt(norm2));
  return v;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::string data(static_cast<size_t>(std::max<std::streamoff>(0, in.tellg())), '\0');
  in.seekg(0);
  in.read(data.data(), std::streamsize(data.size()));
  return data;
}

void WriteAll(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), std::streamsize(data.size()));
}

// Reference CRC-32 (reflected, polynomial 0xEDB88320), bit by bit: the test re-seals
// files it has tampered with, to reach the checks behind the checksum.
uint32_t Crc32(const std::string& data) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : data) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// Replaces the trailer's CRC with the CRC of the (modified) body.
std::string Reseal(std::string file) {
  const size_t crc_at = file.size() - 12;
  const uint32_t crc = Crc32(file.substr(0, crc_at));
  for (int i = 0; i < 4; ++i) file[crc_at + size_t(i)] = char((crc >> (8 * i)) & 0xff);
  return file;
}

bool SortedUniqueAndBounded(const std::vector<Neighbor>& results, size_t k) {
  if (results.size() > k) return false;
  std::set<MemoryId> ids;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!ids.insert(results[i].id).second) return false;
    if (results[i].similarity < -1.05f || results[i].similarity > 1.05f) return false;
    if (i > 0 && results[i - 1].similarity < results[i].similarity) return false;
  }
  return true;
}

std::set<MemoryId> Ids(const std::vector<Neighbor>& results) {
  std::set<MemoryId> ids;
  for (const Neighbor& n : results) ids.insert(n.id);
  return ids;
}

class VectorIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("mnemo_index_test_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (dir_ / name).string(); }

  // Adds `n` random vectors with ids first_id.. and consecutive seqs; returns them.
  std::vector<std::vector<float>> AddRandom(VectorIndex* index, int dim, int n, MemoryId first_id,
                                            std::mt19937* rng) {
    std::vector<std::vector<float>> vectors;
    for (int i = 0; i < n; ++i) {
      vectors.push_back(RandomUnit(rng, dim));
      index->Upsert(++seq_, first_id + i, Quantize(vectors.back()));
    }
    return vectors;
  }

  fs::path dir_;
  int64_t seq_ = 0;
};

TEST_F(VectorIndexTest, CreateRejectsNonPositiveDimension) {
  EXPECT_EQ(VectorIndex::Create(kEmbedder, 0), nullptr);
  EXPECT_EQ(VectorIndex::Create(kEmbedder, -3), nullptr);
  auto index = VectorIndex::Create(kEmbedder, 8);
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->dimension(), 8);
  EXPECT_EQ(index->embedder_id(), kEmbedder);
  EXPECT_EQ(index->applied_seq(), 0);
  EXPECT_TRUE(index->Search(std::vector<float>(8, 0.1f), 5).empty());
}

TEST_F(VectorIndexTest, ReadYourWritesBeforeAndAfterIndexing) {
  std::mt19937 rng(1);
  auto index = VectorIndex::Create(kEmbedder, 32);
  AddRandom(index.get(), 32, 50, 1000, &rng);
  const std::vector<float> v = RandomUnit(&rng, 32);
  index->Upsert(++seq_, 42, Quantize(v));

  auto results = index->Search(v, 3);
  ASSERT_FALSE(results.empty());
  EXPECT_EQ(results[0].id, 42);
  EXPECT_NEAR(results[0].similarity, 1.0, 0.01);
  EXPECT_TRUE(index->Contains(42));
  EXPECT_EQ(index->pending_count(), 51u);
  EXPECT_EQ(index->indexed_count(), 0u);

  EXPECT_EQ(index->IndexPending(1000), 51u);
  EXPECT_EQ(index->IndexPending(1000), 0u);
  EXPECT_EQ(index->pending_count(), 0u);
  EXPECT_EQ(index->indexed_count(), 51u);
  EXPECT_EQ(index->applied_seq(), seq_);
  results = index->Search(v, 3);
  ASSERT_FALSE(results.empty());
  EXPECT_EQ(results[0].id, 42);
  EXPECT_NEAR(results[0].similarity, 1.0, 0.01);
  EXPECT_TRUE(SortedUniqueAndBounded(results, 3));
}

TEST_F(VectorIndexTest, IndexPendingHonoursMaxItemsOldestFirst) {
  std::mt19937 rng(2);
  auto index = VectorIndex::Create(kEmbedder, 16);
  AddRandom(index.get(), 16, 10, 1, &rng);
  EXPECT_EQ(index->IndexPending(3), 3u);
  EXPECT_EQ(index->applied_seq(), 3);
  EXPECT_EQ(index->indexed_count(), 3u);
  EXPECT_EQ(index->pending_count(), 7u);
  EXPECT_EQ(index->IndexPending(0), 0u);
  EXPECT_EQ(index->IndexPending(100), 7u);
  EXPECT_EQ(index->applied_seq(), 10);
}

class HnswRecallTest : public VectorIndexTest, public ::testing::WithParamInterface<int> {};

// Built by 1 thread and by 4 at once (the graph takes concurrent inserts): the same
// recall either way.
TEST_P(HnswRecallTest, AgainstBruteForce) {
  constexpr int kDim = 64;
  constexpr int kCount = 5000;
  constexpr size_t kK = 10;
  std::mt19937 rng(3);
  auto index = VectorIndex::Create(kEmbedder, kDim);
  std::vector<std::string> blobs;
  for (int i = 0; i < kCount; ++i) {
    blobs.push_back(Quantize(RandomUnit(&rng, kDim)));
    index->Upsert(++seq_, i, blobs.back());
  }
  EXPECT_EQ(index->IndexPending(kCount, GetParam()), size_t(kCount));
  EXPECT_EQ(index->indexed_count(), size_t(kCount));

  size_t found = 0;
  constexpr int kQueries = 200;
  for (int qi = 0; qi < kQueries; ++qi) {
    const std::vector<float> q = RandomUnit(&rng, kDim);
    std::vector<std::pair<float, MemoryId>> exact;
    for (int i = 0; i < kCount; ++i) exact.emplace_back(QuantizedDot(q, blobs[size_t(i)]), i);
    std::partial_sort(exact.begin(), exact.begin() + kK, exact.end(), std::greater<>());
    // Random unit vectors are the worst case for HNSW (intrinsic dimension = 64): with
    // M = 16 it takes ef = 128 for 0.98 (ef = 64 gives 0.90, as float hnswlib does).
    const auto results = index->Search(q, kK, 128);
    ASSERT_EQ(results.size(), kK);
    ASSERT_TRUE(SortedUniqueAndBounded(results, kK));
    const std::set<MemoryId> got = Ids(results);
    for (size_t j = 0; j < kK; ++j) found += got.count(exact[j].second);
  }
  const double recall = double(found) / (kQueries * kK);
  EXPECT_GE(recall, 0.95) << "recall@10 = " << recall;
}

INSTANTIATE_TEST_SUITE_P(BuildThreads, HnswRecallTest, ::testing::Values(1, 4));

TEST_F(VectorIndexTest, LatestVectorWinsWhilePendingAndAfterIndexing) {
  constexpr int kDim = 32;
  std::mt19937 rng(4);
  auto index = VectorIndex::Create(kEmbedder, kDim);
  AddRandom(index.get(), kDim, 300, 1000, &rng);
  const std::vector<float> v1 = RandomUnit(&rng, kDim);
  const std::vector<float> v2 = RandomUnit(&rng, kDim);
  const std::vector<float> v3 = RandomUnit(&rng, kDim);
  index->Upsert(++seq_, 7, Quantize(v1));
  index->Upsert(++seq_, 7, Quantize(v2));  // update while pending

  auto check_latest = [&](const std::vector<float>& latest, const std::vector<float>& stale) {
    auto results = index->Search(latest, 10);
    ASSERT_TRUE(SortedUniqueAndBounded(results, 10));
    ASSERT_FALSE(results.empty());
    EXPECT_EQ(results[0].id, 7);
    EXPECT_NEAR(results[0].similarity, 1.0, 0.01);
    for (const Neighbor& n : index->Search(stale, 50)) {
      if (n.id == 7) {
        EXPECT_LT(n.similarity, 0.9);  // scored with the latest vector
      }
    }
    const auto scored = index->Score(latest, {7});
    ASSERT_EQ(scored.size(), 1u);
    EXPECT_NEAR(scored[0].similarity, 1.0, 0.01);
  };
  check_latest(v2, v1);
  EXPECT_EQ(index->IndexPending(10000), 302u);
  check_latest(v2, v1);
  EXPECT_EQ(index->indexed_count(), 301u);

  index->Upsert(++seq_, 7, Quantize(v3));  // pending update of an indexed id
  check_latest(v3, v2);
  EXPECT_EQ(index->indexed_count(), 301u);
  EXPECT_EQ(index->IndexPending(10000), 1u);
  check_latest(v3, v2);
  EXPECT_EQ(index->indexed_count(), 301u);
}

TEST_F(VectorIndexTest, RemovedIdsAreNeverReturned) {
  constexpr int kDim = 24;
  std::mt19937 rng(5);
  auto index = VectorIndex::Create(kEmbedder, kDim);
  auto vectors = AddRandom(index.get(), kDim, 200, 0, &rng);
  index->IndexPending(1000);

  // Removal of an indexed id, while the removal is pending and once applied.
  index->Remove(++seq_, 5, /*erase=*/false);
  auto never_returns = [&](MemoryId id, const std::vector<float>& v) {
    EXPECT_FALSE(index->Contains(id));
    EXPECT_EQ(Ids(index->Search(v, 20)).count(id), 0u);
    EXPECT_TRUE(index->Score(v, {id}).empty());
  };
  never_returns(5, vectors[5]);
  EXPECT_EQ(index->IndexPending(1000), 1u);
  never_returns(5, vectors[5]);
  EXPECT_EQ(index->indexed_count(), 199u);

  // Removal of an id that never reached the graph.
  const std::vector<float> w = RandomUnit(&rng, kDim);
  index->Upsert(++seq_, 500, Quantize(w));
  index->Remove(++seq_, 500, /*erase=*/false);
  never_returns(500, w);
  EXPECT_EQ(index->IndexPending(1000), 2u);
  never_returns(500, w);
  EXPECT_EQ(index->indexed_count(), 199u);

  // Removing an absent id is a no-op; removing twice too.
  index->Remove(++seq_, 99999, false);
  index->Remove(++seq_, 5, false);
  EXPECT_EQ(index->IndexPending(1000), 2u);
  EXPECT_EQ(index->indexed_count(), 199u);

  // Re-adding a removed id revives it with its new vector.
  const std::vector<float> again = RandomUnit(&rng, kDim);
  index->Upsert(++seq_, 5, Quantize(again));
  EXPECT_TRUE(index->Contains(5));
  EXPECT_EQ(index->Search(again, 1).at(0).id, 5);
  index->IndexPending(1000);
  EXPECT_TRUE(index->Contains(5));
  EXPECT_EQ(index->Search(again, 1).at(0).id, 5);
  EXPECT_EQ(index->indexed_count(), 200u);

  // Asking for more than there is returns every live vector once.
  const auto all = index->Search(again, 1000, 10);
  EXPECT_EQ(all.size(), 200u);
  EXPECT_TRUE(SortedUniqueAndBounded(all, 1000));
}

TEST_F(VectorIndexTest, SearchCompensatesForManyStaleGraphEntries) {
  // Most of the graph is superseded by pending removals: Search must still find k live.
  constexpr int kDim = 16;
  std::mt19937 rng(6);
  auto index = VectorIndex::Create(kEmbedder, kDim);
  AddRandom(index.get(), kDim, 1000, 0, &rng);
  index->IndexPending(10000);
  for (MemoryId id = 0; id < 990; ++id) index->Remove(++seq_, id, false);
  const auto results = index->Search(RandomUnit(&rng, kDim), 10, 10);
  EXPECT_EQ(results.size(), 10u);
  for (const Neighbor& n : results) EXPECT_GE(n.id, 990);
  index->IndexPending(10000);
  EXPECT_EQ(index->indexed_count(), 10u);
  EXPECT_EQ(index->Search(RandomUnit(&rng, kDim), 10, 10).size(), 10u);
}

TEST_F(VectorIndexTest, EraseRemovesTheVectorBytesFromSnapshots) {
  constexpr int kDim = 64;
  std::mt19937 rng(7);
  auto index = VectorIndex::Create(kEmbedder, kDim);
  std::vector<std::string> blobs;
  for (int i = 0; i < 100; ++i) {
    blobs.push_back(Quantize(RandomUnit(&rng, kDim)));
    index->Upsert(++seq_, i, blobs.back());
  }
  index->IndexPending(1000);
  const std::string path = Path("vectors.snap");
  ASSERT_TRUE(index->Save(path).ok());
  std::string file = ReadAll(path);
  ASSERT_NE(file.find(blobs[10]), std::string::npos);  // the scan can see blobs
  ASSERT_NE(file.find(blobs[20]), std::string::npos);

  // Erased before the removal is applied: a snapshot taken right away lacks it.
  index->Remove(++seq_, 10, /*erase=*/true);
  index->Remove(++seq_, 20, /*erase=*/false);
  ASSERT_TRUE(index->Save(path).ok());
  file = ReadAll(path);
  EXPECT_EQ(file.find(blobs[10]), std::string::npos);
  EXPECT_NE(file.find(blobs[20]), std::string::npos);  // plain removal keeps the bytes
  EXPECT_NE(file.find(blobs[30]), std::string::npos);

  index->IndexPending(1000);
  ASSERT_TRUE(index->Save(path).ok());
  EXPECT_EQ(ReadAll(path).find(blobs[10]), std::string::npos);

  // Erasing a removal that was already applied still zeroes the bytes.
  index->Remove(++seq_, 20, /*erase=*/true);
  index->IndexPending(1000);
  ASSERT_TRUE(index->Save(path).ok());
  EXPECT_EQ(ReadAll(path).find(blobs[20]), std::string::npos);

  // Erased while only pending: it never reaches the graph.
  const std::string fresh = Quantize(RandomUnit(&rng, kDim));
  index->Upsert(++seq_, 500, fresh);
  index->Remove(++seq_, 500, /*erase=*/true);
  EXPECT_FALSE(index->Contains(500));
  index->IndexPending(1000);
  ASSERT_TRUE(index->Save(path).ok());
  EXPECT_EQ(ReadAll(path).find(fresh), std::string::npos);

  // A later re-add of an erased id works normally.
  const std::vector<float> back = RandomUnit(&rng, kDim);
  index->Upsert(++seq_, 10, Quantize(back));
  index->IndexPending(1000);
  EXPECT_EQ(index->Search(back, 1).at(0).id, 10);
}

TEST_F(VectorIndexTest, SaveLoadRoundTrip) {
  constexpr int kDim = 48;
  std::mt19937 rng(8);
  auto index = VectorIndex::Create(kEmbedder, kDim);
  AddRandom(index.get(), kDim, 1500, 1, &rng);
  index->Remove(++seq_, 3, false);
  index->IndexPending(100000);
  const int64_t saved_seq = seq_;
  // Pending changes are not part of a snapshot.
  const std::vector<float> late = RandomUnit(&rng, kDim);
  index->Upsert(++seq_, 9999, Quantize(late));

  const std::string path = Path("vectors.snap");
  auto info = index->Save(path);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->applied_seq, saved_seq);
  EXPECT_EQ(info->dimension, kDim);
  EXPECT_EQ(info->embedder_id, kEmbedder);
  for (const auto& entry : fs::directory_iterator(dir_)) {
    EXPECT_EQ(entry.path().filename(), "vectors.snap") << "temporary file left behind";
  }

  auto loaded = VectorIndex::Load(path, kEmbedder, kDim);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  VectorIndex& copy = **loaded;
  EXPECT_EQ(copy.applied_seq(), saved_seq);
  EXPECT_EQ(copy.indexed_count(), 1499u);
  EXPECT_EQ(copy.pending_count(), 0u);
  EXPECT_FALSE(copy.Contains(3));
  EXPECT_FALSE(copy.Contains(9999));
  EXPECT_TRUE(copy.Contains(4));

  // Same graph, same answers (the original's pending vector aside).
  index->IndexPending(10);
  index->Remove(++seq_, 9999, false);
  index->IndexPending(10);
  for (int i = 0; i < 30; ++i) {
    const std::vector<float> q = RandomUnit(&rng, kDim);
    const auto a = index->Search(q, 10);
    const auto b = copy.Search(q, 10);
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j) {
      EXPECT_EQ(a[j].id, b[j].id);
      EXPECT_FLOAT_EQ(a[j].similarity, b[j].similarity);
    }
  }

  // The engine replays its log after applied_seq: older seqs are ignored, newer apply,
  // and the loaded graph keeps growing past its initial capacity.
  copy.Upsert(saved_seq, 777777, Quantize(late));
  EXPECT_FALSE(copy.Contains(777777));
  copy.Upsert(saved_seq + 1, 9999, Quantize(late));
  EXPECT_TRUE(copy.Contains(9999));
  int64_t s = saved_seq + 1;
  for (int i = 0; i < 1000; ++i) copy.Upsert(++s, 20000 + i, Quantize(RandomUnit(&rng, kDim)));
  EXPECT_EQ(copy.IndexPending(100000), 1001u);
  EXPECT_EQ(copy.indexed_count(), 2500u);
  EXPECT_EQ(copy.Search(late, 1).at(0).id, 9999);
  EXPECT_EQ(copy.applied_seq(), s);
}

TEST_F(VectorIndexTest, EmptyIndexRoundTrip) {
  auto index = VectorIndex::Create(kEmbedder, 8);
  const std::string path = Path("empty.snap");
  ASSERT_TRUE(index->Save(path).ok());
  auto loaded = VectorIndex::Load(path, kEmbedder, 8);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ((*loaded)->indexed_count(), 0u);
  EXPECT_TRUE((*loaded)->Search(std::vector<float>(8, 0.5f), 3).empty());
  (*loaded)->Upsert(1, 1, Quantize(std::vector<float>(8, 0.5f)));
  (*loaded)->IndexPending(10);
  EXPECT_EQ((*loaded)->Search(std::vector<float>(8, 0.5f), 3).size(), 1u);
}

class SnapshotCorruptionTest : public VectorIndexTest {
 protected:
  void SetUp() override {
    VectorIndexTest::SetUp();
    std::mt19937 rng(9);
    auto index = VectorIndex::Create(kEmbedder, kDim);
    AddRandom(index.get(), kDim, 40, 100, &rng);
    index->IndexPending(1000);
    good_path_ = Path("good.snap");
    ASSERT_TRUE(index->Save(good_path_).ok());
    good_ = ReadAll(good_path_);
  }

  // Loads `bytes` written to a file; returns the status (OK or not).
  Status LoadBytes(const std::string& bytes, const std::string& embedder = kEmbedder,
                   int dim = kDim) {
    const std::string path = Path("bad.snap");
    WriteAll(path, bytes);
    auto loaded = VectorIndex::Load(path, embedder, dim);
    if (!loaded.ok()) return loaded.status();
    // Whatever loads must be usable.
    std::mt19937 rng(1);
    (*loaded)->Search(RandomUnit(&rng, kDim), 5);
    return Status::Ok();
  }

  static constexpr int kDim = 8;
  std::string good_path_;
  std::string good_;
};

TEST_F(SnapshotCorruptionTest, IntactFileLoads) { EXPECT_TRUE(LoadBytes(good_).ok()); }

TEST_F(SnapshotCorruptionTest, MissingFileIsNotFound) {
  auto loaded = VectorIndex::Load(Path("nope.snap"), kEmbedder, kDim);
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kNotFound);
}

TEST_F(SnapshotCorruptionTest, FlippedByteIsAChecksumMismatch) {
  std::string bad = good_;
  bad[bad.size() / 2] ^= 0x20;
  const Status s = LoadBytes(bad);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("checksum mismatch"), std::string::npos) << s.message();
}

TEST_F(SnapshotCorruptionTest, EveryFlippedByteIsDetected) {
  // Every byte of the header and trailer, every 7th of the graph payload.
  const size_t header_end = 8 + 4 + 4 + 8 + 4 + sizeof(kEmbedder) - 1 + 8 + 96;
  for (size_t i = 0; i < good_.size(); i += (i < header_end || i + 12 >= good_.size()) ? 1 : 7) {
    std::string bad = good_;
    bad[i] ^= 0x01;
    EXPECT_EQ(LoadBytes(bad).code(), StatusCode::kCorruption) << "byte " << i;
  }
}

TEST_F(SnapshotCorruptionTest, TruncationAndTrailingBytes) {
  for (size_t keep :
       {size_t(0), size_t(5), size_t(30), good_.size() / 2, good_.size() - 12, good_.size() - 1}) {
    EXPECT_EQ(LoadBytes(good_.substr(0, keep)).code(), StatusCode::kCorruption) << keep;
  }
  EXPECT_EQ(LoadBytes(good_ + "x").code(), StatusCode::kCorruption);
}

TEST_F(SnapshotCorruptionTest, EmptyFile) {
  const Status s = LoadBytes("");
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("empty"), std::string::npos) << s.message();
}

TEST_F(SnapshotCorruptionTest, WrongMagicAndVersion) {
  std::string bad = good_;
  bad[0] = 'X';
  Status s = LoadBytes(bad);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("magic"), std::string::npos) << s.message();

  bad = good_;
  bad[8] = 1;  // format version 1: hnswlib's graph, no longer read (rebuilt instead)
  s = LoadBytes(Reseal(bad));
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("version 1"), std::string::npos) << s.message();

  bad = good_;
  bad[bad.size() - 1] = 'X';  // end magic
  EXPECT_EQ(LoadBytes(bad).code(), StatusCode::kCorruption);
}

TEST_F(SnapshotCorruptionTest, WrongDimensionOrEmbedder) {
  Status s = LoadBytes(good_, kEmbedder, kDim + 1);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("dimension 8"), std::string::npos) << s.message();
  s = LoadBytes(good_, "other-embedder", kDim);
  EXPECT_EQ(s.code(), StatusCode::kCorruption);
  EXPECT_NE(s.message().find("other-embedder"), std::string::npos) << s.message();
  // A consistent file that claims another dimension than its vectors have.
  std::string bad = good_;
  bad[12] = char(kDim + 1);
  EXPECT_EQ(LoadBytes(Reseal(bad), kEmbedder, kDim + 1).code(), StatusCode::kCorruption);
}

TEST_F(SnapshotCorruptionTest, ResealedGarbagePayloadNeverCrashes) {
  // Damage behind a valid checksum (a buggy writer, a crafted file) reaches the graph
  // payload checks: every outcome must be a clean error or a usable index.
  const size_t payload_start = 8 + 4 + 4 + 8 + 4 + sizeof(kEmbedder) - 1 + 8;
  const size_t payload_end = good_.size() - 12;
  std::mt19937 rng(10);
  std::vector<size_t> positions;
  for (size_t i = payload_start; i < payload_start + 96; ++i) positions.push_back(i);
  std::uniform_int_distribution<size_t> anywhere(payload_start, payload_end - 1);
  for (int i = 0; i < 400; ++i) positions.push_back(anywhere(rng));
  int rejected = 0;
  for (size_t pos : positions) {
    for (unsigned char value : {0x00, 0x01, 0x7f, 0xff}) {
      std::string bad = good_;
      if (static_cast<unsigned char>(bad[pos]) == value) continue;
      bad[pos] = char(value);
      const Status s = LoadBytes(Reseal(bad));
      if (!s.ok()) {
        EXPECT_EQ(s.code(), StatusCode::kCorruption) << s.ToString();
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, 0);
}

TEST_F(VectorIndexTest, ReplayedSeqsAreIgnored) {
  std::mt19937 rng(11);
  auto index = VectorIndex::Create(kEmbedder, 16);
  const std::vector<float> v1 = RandomUnit(&rng, 16);
  const std::vector<float> v2 = RandomUnit(&rng, 16);
  index->Upsert(5, 1, Quantize(v1));
  index->Upsert(5, 1, Quantize(v2));  // same seq: replay
  index->Upsert(3, 2, Quantize(v2));  // older seq: replay
  index->Remove(4, 1, false);
  EXPECT_TRUE(index->Contains(1));
  EXPECT_FALSE(index->Contains(2));
  EXPECT_NEAR(index->Score(v1, {1}).at(0).similarity, 1.0, 0.01);
  EXPECT_EQ(index->pending_count(), 1u);
  index->IndexPending(10);
  EXPECT_EQ(index->applied_seq(), 5);
  index->Upsert(5, 1, Quantize(v2));
  EXPECT_NEAR(index->Score(v1, {1}).at(0).similarity, 1.0, 0.01);
  index->Upsert(6, 1, Quantize(v2));
  EXPECT_NEAR(index->Score(v2, {1}).at(0).similarity, 1.0, 0.01);
}

TEST_F(VectorIndexTest, CountsStayConsistentWhileVectorsMoveIntoTheGraph) {
  // Statistics read while IndexPending runs: every live id is counted once, either in
  // the graph or pending, never in both (the graph links a node before the id maps to it).
  std::mt19937 rng(16);
  auto index = VectorIndex::Create(kEmbedder, 16);
  constexpr size_t kCount = 3000;
  for (MemoryId id = 1; id <= MemoryId(kCount); ++id) {
    index->Upsert(id, id, Quantize(RandomUnit(&rng, 16)));
  }
  std::atomic<bool> done{false};
  std::thread builder([&] {
    while (index->IndexPending(64, 2) > 0) {
    }
    done = true;
  });
  size_t reads = 0;
  while (!done.load()) {
    const VectorIndex::Counts c = index->counts();
    if (c.indexed + c.pending_new != kCount) {
      ADD_FAILURE() << c.indexed << " indexed + " << c.pending_new << " pending after " << reads
                    << " consistent reads";
      break;
    }
    ++reads;
  }
  builder.join();
  EXPECT_EQ(index->indexed_count(), kCount);
  EXPECT_EQ(index->pending_new_vectors(), 0u);
}

TEST_F(VectorIndexTest, SeedSharesOneSeqAndCountsAsAppliedOnlyWhenComplete) {
  std::mt19937 rng(15);
  auto index = VectorIndex::Create(kEmbedder, 16);
  std::vector<std::vector<float>> vectors;
  for (MemoryId id = 1; id <= 100; ++id) {
    vectors.push_back(RandomUnit(&rng, 16));
    index->Seed(50, id, Quantize(vectors.back()));
  }
  EXPECT_EQ(index->pending_count(), 100u);
  EXPECT_EQ(index->pending_new_vectors(), 100u);
  EXPECT_TRUE(index->rebuilding());
  EXPECT_EQ(index->IndexPending(70), 70u);
  EXPECT_EQ(index->applied_seq(), 49);  // part of seq 50 is still pending
  EXPECT_EQ(index->pending_new_vectors(), 30u);
  EXPECT_TRUE(index->rebuilding());
  // A snapshot now could not say which seeded vectors it lacks.
  auto partial = index->Save(Path("partial.idx"));
  EXPECT_EQ(partial.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_FALSE(fs::exists(Path("partial.idx")));
  index->Upsert(50, 1000, Quantize(vectors[0]));  // a plain Upsert still needs a new seq
  EXPECT_FALSE(index->Contains(1000));
  EXPECT_EQ(index->IndexPending(70), 30u);
  EXPECT_EQ(index->applied_seq(), 50);
  EXPECT_FALSE(index->rebuilding());
  EXPECT_TRUE(index->Save(Path("complete.idx")).ok());
  EXPECT_EQ(index->pending_new_vectors(), 0u);
  for (MemoryId id = 1; id <= 100; ++id) {
    EXPECT_EQ(index->Search(vectors[size_t(id - 1)], 1).at(0).id, id);
  }
  // An update of an indexed id is pending but not a new vector.
  index->Upsert(51, 1, Quantize(vectors[1]));
  EXPECT_EQ(index->pending_count(), 1u);
  EXPECT_EQ(index->pending_new_vectors(), 0u);
}

TEST_F(VectorIndexTest, MalformedInputIsIgnored) {
  auto index = VectorIndex::Create(kEmbedder, 16);
  index->Upsert(1, 1, "too short");
  EXPECT_FALSE(index->Contains(1));
  EXPECT_EQ(index->pending_count(), 0u);
  index->Upsert(2, 2, Quantize(std::vector<float>(16, 0.25f)));
  EXPECT_TRUE(index->Search(std::vector<float>(15, 0.25f), 5).empty());  // wrong dimension
  EXPECT_TRUE(index->Score(std::vector<float>(17, 0.25f), {2}).empty());
  EXPECT_TRUE(index->Search(std::vector<float>(16, 0.25f), 0).empty());
  // An unnormalised query still scores as a cosine similarity.
  EXPECT_NEAR(index->Search(std::vector<float>(16, 3.0f), 1).at(0).similarity, 1.0, 0.01);
}

TEST_F(VectorIndexTest, ScoreKeepsOrderAndSkipsAbsentIds) {
  constexpr int kDim = 16;
  std::mt19937 rng(12);
  auto index = VectorIndex::Create(kEmbedder, kDim);
  auto vectors = AddRandom(index.get(), kDim, 5, 1, &rng);  // ids 1..5
  index->IndexPending(3);                                   // 1..3 in the graph
  index->Remove(++seq_, 2, false);
  const std::vector<float> q = RandomUnit(&rng, kDim);
  const auto scored = index->Score(q, {5, 2, 42, 1, 4});
  ASSERT_EQ(scored.size(), 3u);
  EXPECT_EQ(scored[0].id, 5);
  EXPECT_EQ(scored[1].id, 1);
  EXPECT_EQ(scored[2].id, 4);
  for (const Neighbor& n : scored) {
    EXPECT_FLOAT_EQ(n.similarity, QuantizedDot(q, Quantize(vectors[size_t(n.id - 1)])));
  }
}

TEST_F(VectorIndexTest, ScanAllIsExactOverGraphAndPendingTail) {
  constexpr int kDim = 24;
  std::mt19937 rng(21);
  auto index = VectorIndex::Create(kEmbedder, kDim);
  auto vectors = AddRandom(index.get(), kDim, 300, 1, &rng);  // ids 1..300
  index->IndexPending(200);                                   // 1..200 in the graph
  index->Remove(++seq_, 7, false);                            // in the graph, removed
  index->Remove(++seq_, 250, false);                          // pending, removed
  vectors[9] = RandomUnit(&rng, kDim);                        // id 10: newer vector, pending
  index->Upsert(++seq_, 10, Quantize(vectors[9]));
  const std::vector<float> q = RandomUnit(&rng, kDim);
  std::vector<Neighbor> truth;
  for (MemoryId id = 1; id <= 300; ++id) {
    if (id == 7 || id == 250) continue;
    truth.push_back({id, QuantizedDot(q, Quantize(vectors[size_t(id - 1)]))});
  }
  std::sort(truth.begin(), truth.end(), [](const Neighbor& a, const Neighbor& b) {
    return a.similarity != b.similarity ? a.similarity > b.similarity : a.id < b.id;
  });
  for (size_t k : {1u, 10u, 298u, 500u}) {
    const auto got = index->ScanAll(q, k);
    ASSERT_TRUE(SortedUniqueAndBounded(got, k)) << k;
    ASSERT_EQ(got.size(), std::min(k, truth.size())) << k;
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].id, truth[i].id) << "k=" << k << " rank " << i;
      EXPECT_FLOAT_EQ(got[i].similarity, truth[i].similarity);
    }
  }
  EXPECT_TRUE(index->ScanAll(q, 0).empty());
  EXPECT_TRUE(index->ScanAll(std::vector<float>(kDim + 1, 0.1f), 5).empty());
}

TEST_F(VectorIndexTest, GrowsBeyondInitialCapacity) {
  constexpr int kDim = 32;
  constexpr int kCount = 3000;
  std::mt19937 rng(13);
  auto index = VectorIndex::Create(kEmbedder, kDim);
  auto vectors = AddRandom(index.get(), kDim, kCount, 0, &rng);
  EXPECT_EQ(index->IndexPending(kCount), size_t(kCount));
  EXPECT_EQ(index->indexed_count(), size_t(kCount));
  int self_found = 0;
  for (int i = 0; i < kCount; i += 7) {
    const auto results = index->Search(vectors[size_t(i)], 1);
    self_found += !results.empty() && results[0].id == i;
  }
  EXPECT_GE(self_found, (kCount / 7) * 99 / 100);
}

TEST_F(VectorIndexTest, ConcurrentWritesIndexingSearchesAndSaves) {
  constexpr int kDim = 32;
  constexpr int kItems = 2000;
  std::mt19937 rng(14);
  auto index = VectorIndex::Create(kEmbedder, kDim);
  std::vector<std::vector<float>> vectors;
  for (int i = 0; i < kItems; ++i) vectors.push_back(RandomUnit(&rng, kDim));

  std::atomic<bool> done{false};
  std::atomic<int> bad_results{0};
  std::atomic<long> searches{0};
  std::set<MemoryId> removed;  // written by the writer only, read after join
  std::thread writer([&] {
    int64_t seq = 0;
    for (int i = 0; i < kItems; ++i) {
      index->Upsert(++seq, i, Quantize(vectors[size_t(i)]));
      if (i % 10 == 9) {  // update an earlier one, remove another
        index->Upsert(++seq, i - 5, Quantize(vectors[size_t(i - 5)]));
        index->Remove(++seq, i - 9, /*erase=*/i % 20 == 9);
        removed.insert(i - 9);
      }
      if (i % 50 == 49) index->IndexPending(32, 2);
    }
    while (index->IndexPending(64, 3) > 0) {
    }
    done = true;
  });
  auto searcher = [&](unsigned seed) {
    std::mt19937 local(seed);
    std::uniform_int_distribution<int> pick(0, kItems - 1);
    while (!done) {
      const auto results = index->Search(vectors[size_t(pick(local))], 10, 32);
      if (!SortedUniqueAndBounded(results, 10)) ++bad_results;
      index->Score(vectors[0], {0, 1, 2, 3});
      index->Contains(pick(local));
      ++searches;
    }
  };
  std::thread search1(searcher, 1u);
  std::thread search2(searcher, 2u);
  std::thread saver([&] {
    for (int i = 0; i < 3 && (i == 0 || !done); ++i) {
      auto saved = index->Save(Path("concurrent.snap"));
      if (!saved.ok()) ++bad_results;
    }
  });
  writer.join();
  search1.join();
  search2.join();
  saver.join();

  EXPECT_EQ(bad_results.load(), 0);
  EXPECT_GT(searches.load(), 0);
  EXPECT_EQ(index->pending_count(), 0u);
  EXPECT_EQ(index->indexed_count(), size_t(kItems) - removed.size());
  for (int i = 0; i < kItems; ++i) EXPECT_EQ(index->Contains(i), removed.count(i) == 0) << i;
  int self_found = 0;
  for (int i = 0; i < kItems; ++i) {
    if (removed.count(i)) continue;
    const auto results = index->Search(vectors[size_t(i)], 1);
    self_found += !results.empty() && results[0].id == i;
  }
  EXPECT_GE(self_found, int(kItems - removed.size()) * 98 / 100);
  auto loaded = VectorIndex::Load(Path("concurrent.snap"), kEmbedder, kDim);
  EXPECT_TRUE(loaded.ok()) << loaded.status().ToString();
}

}  // namespace
}  // namespace mnemo::index

// Private to src/index: the posting list of one term in one partition of the lexical
// index (lexical_index.h), and a cursor over it.
//
// A list holds (doc, f2) pairs in increasing doc order, where doc is the ordinal of a
// memory in the index's DocTable and f2 is twice the term's weighted frequency in it
// (text occurrences count 2, speaker occurrences 1: the speaker column weighs 0.5),
// saturated at 255. Postings are grouped in blocks of up to kMaxBlock; a sealed block is
// compressed (doc gaps as varints, then the f2 bytes) and described by a BlockMeta that
// carries what a score-bounded search needs to skip it: its last doc, its largest f2, its
// shortest document and the range of its documents' event times. The newest postings
// sit in an uncompressed tail until kBlockSize of them seal a block, so appending (the
// write path's case: ordinals grow) costs no re-encoding.
//
// Bounds stay valid, never exact: a removal leaves the list's max_f2/min_len as they were
// (looser, still upper bounds) until the block is re-encoded.
//
// Thread safety: none; LexicalIndex serialises writers against readers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace mnemo::index::lexical {

inline constexpr uint32_t kNoDoc = std::numeric_limits<uint32_t>::max();
inline constexpr size_t kBlockSize = 128;  // postings per sealed block when appending
inline constexpr size_t kMaxBlock = 256;   // a block that grows past this is split
inline constexpr int64_t kNoTime = std::numeric_limits<int64_t>::min();

// What a list needs to know of a document to keep its block bounds: its length in
// tokens and its event time (kNoTime for none).
struct DocInfo {
  std::function<uint16_t(uint32_t)> length;
  std::function<int64_t(uint32_t)> time;
};

struct BlockMeta {
  uint32_t first_doc = 0;
  uint32_t last_doc = 0;
  uint32_t offset = 0;  // into the list's bytes
  uint16_t count = 0;
  uint8_t max_f2 = 0;
  uint16_t min_len = 0;
  int64_t min_time = kNoTime;  // kNoTime: no document of the block has an event time
  int64_t max_time = kNoTime;
};

class PostingList {
 public:
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  uint8_t max_f2() const { return max_f2_; }
  uint16_t min_len() const { return min_len_; }
  uint32_t last_doc() const;

  // Adds `doc` (not in the list). Amortised O(1) when doc is larger than every doc in
  // the list; otherwise re-encodes the block it falls in.
  void Add(uint32_t doc, uint8_t f2, uint16_t len, int64_t time, const DocInfo& info);
  // Removes `doc`; returns false when it is not in the list.
  bool Remove(uint32_t doc, const DocInfo& info);
  // The f2 of `doc`, or 0 when absent.
  uint8_t Find(uint32_t doc) const;

  // Serialisation (lexical_index.cc's snapshot): the list's own fields, length-prefixed.
  void AppendTo(std::string* out) const;
  // Parses what AppendTo wrote at `*pos`; false (and the list is unusable) on any
  // inconsistency. `num_docs` bounds the doc ordinals.
  bool ReadFrom(std::string_view in, size_t* pos, uint32_t num_docs);

  size_t MemoryBytes() const;

 private:
  friend class Cursor;
  void SealTail(const DocInfo& info);
  // Decodes block `b` into docs/f2s.
  void DecodeBlock(size_t b, std::vector<uint32_t>* docs, std::vector<uint8_t>* f2s) const;
  // Replaces block `b` by the encoding of docs/f2s (split in two when too large, erased
  // when empty).
  void ReplaceBlock(size_t b, const std::vector<uint32_t>& docs, const std::vector<uint8_t>& f2s,
                    const DocInfo& info);
  BlockMeta MetaOf(const std::vector<uint32_t>& docs, const std::vector<uint8_t>& f2s, size_t from,
                   size_t to, const DocInfo& info) const;
  static void Encode(const std::vector<uint32_t>& docs, const std::vector<uint8_t>& f2s,
                     size_t from, size_t to, std::string* out);

  std::string bytes_;  // sealed blocks, back to back
  std::vector<BlockMeta> blocks_;
  std::vector<uint32_t> tail_docs_;  // unsealed postings, increasing
  std::vector<uint8_t> tail_f2_;
  BlockMeta tail_meta_;  // bounds of the tail (offset unused)
  uint32_t count_ = 0;
  uint8_t max_f2_ = 0;
  uint16_t min_len_ = std::numeric_limits<uint16_t>::max();
};

// A forward cursor over one list. Positions are docs; kNoDoc past the end.
class Cursor {
 public:
  explicit Cursor(const PostingList* list);
  uint32_t doc() const { return doc_; }
  uint8_t f2() const { return f2_; }
  void Next();
  // Moves to the first posting with doc >= target (never backwards).
  void NextGeq(uint32_t target);
  // Without decoding: the bounds of the block that would hold `target` (>= doc()), or
  // nullptr when target lies past the last posting. The tail's bounds are kept as upper
  // bounds (a removal does not tighten them).
  const BlockMeta* ShallowBlock(uint32_t target);

 private:
  void LoadBlock(size_t b);
  void Settle();

  const PostingList* list_;
  size_t block_ = 0;  // blocks_.size() = the tail
  size_t pos_ = 0;
  size_t n_ = 0;
  uint32_t doc_ = kNoDoc;
  uint8_t f2_ = 0;
  std::vector<uint32_t> docs_;  // current sealed block, decoded
  std::vector<uint8_t> f2s_;
  const uint32_t* cur_docs_ = nullptr;
  const uint8_t* cur_f2_ = nullptr;
  size_t shallow_ = 0;  // block index ShallowBlock last looked at
};

}  // namespace mnemo::index::lexical

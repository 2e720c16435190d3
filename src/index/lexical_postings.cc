#include "index/lexical_postings.h"

#include <algorithm>
#include <cstring>

#include "index/wire.h"

namespace mnemo::index::lexical {
namespace {

void PutVarint(uint32_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

// Reads a varint at p (< end); returns the position after it, or nullptr when the
// varint runs past `end` or over 5 bytes.
const uint8_t* GetVarint(const uint8_t* p, const uint8_t* end, uint32_t* v) {
  uint32_t result = 0;
  for (int shift = 0; shift <= 28 && p < end; shift += 7) {
    const uint32_t byte = *p++;
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return p;
    }
  }
  return nullptr;
}

// Decodes `count` postings starting at `p` (first doc given), into docs/f2s from index 0.
// Returns false on malformed input.
bool DecodeInto(const uint8_t* p, const uint8_t* end, uint32_t first_doc, size_t count,
                uint32_t* docs, uint8_t* f2s) {
  if (count == 0) return false;
  docs[0] = first_doc;
  for (size_t i = 1; i < count; ++i) {
    uint32_t gap = 0;
    p = GetVarint(p, end, &gap);
    if (p == nullptr || gap == 0 || docs[i - 1] > kNoDoc - 1 - gap) return false;
    docs[i] = docs[i - 1] + gap;
  }
  if (static_cast<size_t>(end - p) < count) return false;
  std::memcpy(f2s, p, count);
  return true;
}

void Widen(BlockMeta* m, uint8_t f2, uint16_t len, int64_t time) {
  m->max_f2 = std::max(m->max_f2, f2);
  m->min_len = m->count == 0 ? len : std::min(m->min_len, len);
  if (time != kNoTime) {
    m->min_time = m->min_time == kNoTime ? time : std::min(m->min_time, time);
    m->max_time = m->max_time == kNoTime ? time : std::max(m->max_time, time);
  }
}

}  // namespace

uint32_t PostingList::last_doc() const {
  if (!tail_docs_.empty()) return tail_docs_.back();
  return blocks_.empty() ? kNoDoc : blocks_.back().last_doc;
}

void PostingList::Encode(const std::vector<uint32_t>& docs, const std::vector<uint8_t>& f2s,
                         size_t from, size_t to, std::string* out) {
  for (size_t i = from + 1; i < to; ++i) PutVarint(docs[i] - docs[i - 1], out);
  out->append(reinterpret_cast<const char*>(f2s.data() + from), to - from);
}

BlockMeta PostingList::MetaOf(const std::vector<uint32_t>& docs, const std::vector<uint8_t>& f2s,
                              size_t from, size_t to, const DocInfo& info) const {
  BlockMeta m;
  m.first_doc = docs[from];
  m.last_doc = docs[to - 1];
  for (size_t i = from; i < to; ++i) {
    Widen(&m, f2s[i], info.length(docs[i]), info.time(docs[i]));
    ++m.count;
  }
  return m;
}

void PostingList::SealTail(const DocInfo& info) {
  BlockMeta m = MetaOf(tail_docs_, tail_f2_, 0, tail_docs_.size(), info);
  m.offset = static_cast<uint32_t>(bytes_.size());
  Encode(tail_docs_, tail_f2_, 0, tail_docs_.size(), &bytes_);
  blocks_.push_back(m);
  tail_docs_.clear();
  tail_f2_.clear();
  tail_meta_ = BlockMeta();
}

void PostingList::DecodeBlock(size_t b, std::vector<uint32_t>* docs,
                              std::vector<uint8_t>* f2s) const {
  const BlockMeta& m = blocks_[b];
  docs->resize(m.count);
  f2s->resize(m.count);
  const auto* base = reinterpret_cast<const uint8_t*>(bytes_.data());
  const size_t end = b + 1 < blocks_.size() ? blocks_[b + 1].offset : bytes_.size();
  DecodeInto(base + m.offset, base + end, m.first_doc, m.count, docs->data(), f2s->data());
}

void PostingList::ReplaceBlock(size_t b, const std::vector<uint32_t>& docs,
                               const std::vector<uint8_t>& f2s, const DocInfo& info) {
  const size_t begin = blocks_[b].offset;
  const size_t end = b + 1 < blocks_.size() ? blocks_[b + 1].offset : bytes_.size();
  std::string encoded;
  std::vector<BlockMeta> metas;
  const size_t n = docs.size();
  // Split an overgrown block in halves; drop an emptied one.
  const size_t parts = n == 0 ? 0 : (n > kMaxBlock ? 2 : 1);
  for (size_t p = 0; p < parts; ++p) {
    const size_t from = p * n / parts;
    const size_t to = (p + 1) * n / parts;
    BlockMeta m = MetaOf(docs, f2s, from, to, info);
    m.offset = static_cast<uint32_t>(begin + encoded.size());
    Encode(docs, f2s, from, to, &encoded);
    metas.push_back(m);
  }
  bytes_.replace(begin, end - begin, encoded);
  const auto delta = static_cast<int64_t>(encoded.size()) - static_cast<int64_t>(end - begin);
  for (size_t i = b + 1; i < blocks_.size(); ++i) {
    blocks_[i].offset = static_cast<uint32_t>(static_cast<int64_t>(blocks_[i].offset) + delta);
  }
  blocks_.erase(blocks_.begin() + static_cast<ptrdiff_t>(b));
  blocks_.insert(blocks_.begin() + static_cast<ptrdiff_t>(b), metas.begin(), metas.end());
}

void PostingList::Add(uint32_t doc, uint8_t f2, uint16_t len, int64_t time, const DocInfo& info) {
  max_f2_ = std::max(max_f2_, f2);
  min_len_ = std::min(min_len_, len);
  ++count_;
  const uint32_t sealed_last = blocks_.empty() ? 0 : blocks_.back().last_doc;
  if (blocks_.empty() || doc > sealed_last) {
    // The tail: appended in order (the common case) or inserted in it.
    auto it = std::lower_bound(tail_docs_.begin(), tail_docs_.end(), doc);
    const auto at = it - tail_docs_.begin();
    tail_docs_.insert(it, doc);
    tail_f2_.insert(tail_f2_.begin() + at, f2);
    tail_meta_.first_doc = tail_docs_.front();
    tail_meta_.last_doc = tail_docs_.back();
    Widen(&tail_meta_, f2, len, time);
    ++tail_meta_.count;
    if (tail_docs_.size() >= kBlockSize) SealTail(info);
    return;
  }
  // A sealed block: the first whose last doc is >= doc.
  auto bit = std::lower_bound(blocks_.begin(), blocks_.end(), doc,
                              [](const BlockMeta& m, uint32_t d) { return m.last_doc < d; });
  const auto b = static_cast<size_t>(bit - blocks_.begin());
  std::vector<uint32_t> docs;
  std::vector<uint8_t> f2s;
  DecodeBlock(b, &docs, &f2s);
  auto it = std::lower_bound(docs.begin(), docs.end(), doc);
  const auto at = it - docs.begin();
  docs.insert(it, doc);
  f2s.insert(f2s.begin() + at, f2);
  ReplaceBlock(b, docs, f2s, info);
}

bool PostingList::Remove(uint32_t doc, const DocInfo& info) {
  auto tit = std::lower_bound(tail_docs_.begin(), tail_docs_.end(), doc);
  if (tit != tail_docs_.end() && *tit == doc) {
    const auto at = tit - tail_docs_.begin();
    tail_docs_.erase(tit);
    tail_f2_.erase(tail_f2_.begin() + at);
    --count_;
    tail_meta_ =
        tail_docs_.empty() ? BlockMeta() : MetaOf(tail_docs_, tail_f2_, 0, tail_docs_.size(), info);
    return true;
  }
  auto bit = std::lower_bound(blocks_.begin(), blocks_.end(), doc,
                              [](const BlockMeta& m, uint32_t d) { return m.last_doc < d; });
  if (bit == blocks_.end() || bit->first_doc > doc) return false;
  const auto b = static_cast<size_t>(bit - blocks_.begin());
  std::vector<uint32_t> docs;
  std::vector<uint8_t> f2s;
  DecodeBlock(b, &docs, &f2s);
  auto it = std::lower_bound(docs.begin(), docs.end(), doc);
  if (it == docs.end() || *it != doc) return false;
  const auto at = it - docs.begin();
  docs.erase(it);
  f2s.erase(f2s.begin() + at);
  ReplaceBlock(b, docs, f2s, info);
  --count_;
  if (count_ == 0) *this = PostingList();
  return true;
}

uint8_t PostingList::Find(uint32_t doc) const {
  auto tit = std::lower_bound(tail_docs_.begin(), tail_docs_.end(), doc);
  if (tit != tail_docs_.end() && *tit == doc)
    return tail_f2_[static_cast<size_t>(tit - tail_docs_.begin())];
  auto bit = std::lower_bound(blocks_.begin(), blocks_.end(), doc,
                              [](const BlockMeta& m, uint32_t d) { return m.last_doc < d; });
  if (bit == blocks_.end() || bit->first_doc > doc) return 0;
  // Walk the gaps without materialising the block.
  const BlockMeta& m = *bit;
  const auto b = static_cast<size_t>(bit - blocks_.begin());
  const auto* base = reinterpret_cast<const uint8_t*>(bytes_.data());
  const size_t end_off = b + 1 < blocks_.size() ? blocks_[b + 1].offset : bytes_.size();
  const uint8_t* p = base + m.offset;
  const uint8_t* end = base + end_off;
  uint32_t d = m.first_doc;
  size_t i = 0;
  while (d < doc && i + 1 < m.count) {
    uint32_t gap = 0;
    p = GetVarint(p, end, &gap);
    if (p == nullptr) return 0;
    d += gap;
    ++i;
  }
  if (d != doc) return 0;
  // Skip the remaining gaps to reach the f2 bytes.
  for (size_t j = i + 1; j < m.count; ++j) {
    uint32_t gap = 0;
    p = GetVarint(p, end, &gap);
    if (p == nullptr) return 0;
  }
  return p + i < end ? p[i] : 0;
}

size_t PostingList::MemoryBytes() const {
  return sizeof(*this) + bytes_.capacity() + blocks_.capacity() * sizeof(BlockMeta) +
         tail_docs_.capacity() * sizeof(uint32_t) + tail_f2_.capacity();
}

void PostingList::AppendTo(std::string* out) const {
  wire::PutU32(out, count_);
  wire::PutU8(out, max_f2_);
  wire::PutU16(out, min_len_);
  wire::PutU32(out, static_cast<uint32_t>(blocks_.size()));
  for (const BlockMeta& m : blocks_) {
    wire::PutU32(out, m.first_doc);
    wire::PutU32(out, m.last_doc);
    wire::PutU32(out, m.offset);
    wire::PutU16(out, m.count);
    wire::PutU8(out, m.max_f2);
    wire::PutU16(out, m.min_len);
    wire::PutI64(out, m.min_time);
    wire::PutI64(out, m.max_time);
  }
  wire::PutBytes(out, bytes_);
  wire::PutArray(out, tail_docs_);
  wire::PutArray(out, tail_f2_);
  wire::PutU8(out, tail_meta_.max_f2);
  wire::PutU16(out, tail_meta_.min_len);
  wire::PutI64(out, tail_meta_.min_time);
  wire::PutI64(out, tail_meta_.max_time);
}

bool PostingList::ReadFrom(std::string_view in, size_t* pos, uint32_t num_docs) {
  *this = PostingList();
  wire::Reader r(in, *pos);
  uint32_t nblocks = 0;
  if (!r.U32(&count_) || !r.U8(&max_f2_) || !r.U16(&min_len_) || !r.U32(&nblocks)) return false;
  if (nblocks > count_) return false;
  blocks_.resize(nblocks);
  for (BlockMeta& m : blocks_) {
    if (!r.U32(&m.first_doc) || !r.U32(&m.last_doc) || !r.U32(&m.offset) || !r.U16(&m.count) ||
        !r.U8(&m.max_f2) || !r.U16(&m.min_len) || !r.I64(&m.min_time) || !r.I64(&m.max_time)) {
      return false;
    }
  }
  if (!r.Bytes(&bytes_)) return false;
  if (!r.Array(&tail_docs_) || !r.Array(&tail_f2_) || tail_docs_.size() != tail_f2_.size() ||
      tail_docs_.size() > kMaxBlock) {
    return false;
  }
  const auto ntail = static_cast<uint32_t>(tail_docs_.size());
  if (!r.U8(&tail_meta_.max_f2) || !r.U16(&tail_meta_.min_len) || !r.I64(&tail_meta_.min_time) ||
      !r.I64(&tail_meta_.max_time)) {
    return false;
  }
  // Structure: blocks back to back, each decodable, docs increasing across the list.
  uint64_t total = ntail;
  int64_t prev = -1;
  std::vector<uint32_t> docs(kMaxBlock + 1);
  std::vector<uint8_t> f2s(kMaxBlock + 1);
  const auto* base = reinterpret_cast<const uint8_t*>(bytes_.data());
  for (size_t b = 0; b < blocks_.size(); ++b) {
    const BlockMeta& m = blocks_[b];
    const size_t end = b + 1 < blocks_.size() ? blocks_[b + 1].offset : bytes_.size();
    if (m.count == 0 || m.count > kMaxBlock || m.offset > end || end > bytes_.size() ||
        (b == 0 && m.offset != 0)) {
      return false;
    }
    if (!DecodeInto(base + m.offset, base + end, m.first_doc, m.count, docs.data(), f2s.data())) {
      return false;
    }
    if (static_cast<int64_t>(m.first_doc) <= prev || docs[m.count - 1] != m.last_doc ||
        m.last_doc >= num_docs) {
      return false;
    }
    prev = m.last_doc;
    total += m.count;
  }
  for (uint32_t d : tail_docs_) {
    if (static_cast<int64_t>(d) <= prev || d >= num_docs) return false;
    prev = d;
  }
  if (total != count_ || count_ == 0) return false;
  tail_meta_.count = static_cast<uint16_t>(ntail);
  if (ntail > 0) {
    tail_meta_.first_doc = tail_docs_.front();
    tail_meta_.last_doc = tail_docs_.back();
  }
  *pos = r.pos();
  return true;
}

// ---- Cursor ----------------------------------------------------------------------------

Cursor::Cursor(const PostingList* list) : list_(list) {
  docs_.resize(kMaxBlock);
  f2s_.resize(kMaxBlock);
  LoadBlock(0);
}

void Cursor::LoadBlock(size_t b) {
  const auto& blocks = list_->blocks_;
  block_ = b;
  pos_ = 0;
  if (b < blocks.size()) {
    const BlockMeta& m = blocks[b];
    const auto* base = reinterpret_cast<const uint8_t*>(list_->bytes_.data());
    const size_t end = b + 1 < blocks.size() ? blocks[b + 1].offset : list_->bytes_.size();
    DecodeInto(base + m.offset, base + end, m.first_doc, m.count, docs_.data(), f2s_.data());
    cur_docs_ = docs_.data();
    cur_f2_ = f2s_.data();
    n_ = m.count;
  } else {
    cur_docs_ = list_->tail_docs_.data();
    cur_f2_ = list_->tail_f2_.data();
    n_ = list_->tail_docs_.size();
  }
  Settle();
}

void Cursor::Settle() {
  while (pos_ >= n_) {
    if (block_ >= list_->blocks_.size()) {
      doc_ = kNoDoc;
      f2_ = 0;
      return;
    }
    LoadBlock(block_ + 1);
    return;
  }
  doc_ = cur_docs_[pos_];
  f2_ = cur_f2_[pos_];
}

void Cursor::Next() {
  if (doc_ == kNoDoc) return;
  ++pos_;
  Settle();
}

void Cursor::NextGeq(uint32_t target) {
  if (doc_ >= target) return;
  const auto& blocks = list_->blocks_;
  // Leave the current block when target lies beyond it.
  const bool in_sealed = block_ < blocks.size();
  if (in_sealed && target > blocks[block_].last_doc) {
    auto it =
        std::lower_bound(blocks.begin() + static_cast<ptrdiff_t>(block_ + 1), blocks.end(), target,
                         [](const BlockMeta& m, uint32_t d) { return m.last_doc < d; });
    LoadBlock(static_cast<size_t>(it - blocks.begin()));
    if (doc_ >= target) return;
  }
  // Within the block: gallop, then binary search.
  const uint32_t* begin = cur_docs_ + pos_;
  const uint32_t* end = cur_docs_ + n_;
  const uint32_t* found = std::lower_bound(begin, end, target);
  pos_ = static_cast<size_t>(found - cur_docs_);
  Settle();
  if (doc_ < target && doc_ != kNoDoc) NextGeq(target);
}

const BlockMeta* Cursor::ShallowBlock(uint32_t target) {
  const auto& blocks = list_->blocks_;
  size_t b = std::max(shallow_, block_);
  if (b < blocks.size() && blocks[b].last_doc < target) {
    auto it = std::lower_bound(blocks.begin() + static_cast<ptrdiff_t>(b), blocks.end(), target,
                               [](const BlockMeta& m, uint32_t d) { return m.last_doc < d; });
    b = static_cast<size_t>(it - blocks.begin());
  }
  shallow_ = b;
  if (b < blocks.size()) return &blocks[b];
  if (!list_->tail_docs_.empty() && list_->tail_docs_.back() >= target) return &list_->tail_meta_;
  return nullptr;
}

}  // namespace mnemo::index::lexical

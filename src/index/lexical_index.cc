#include "index/lexical_index.h"

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "index/fair_shared_mutex.h"
#include "index/id_map.h"
#include "index/large_alloc.h"
#include "index/lexical_postings.h"
#include "index/wire.h"
#include "text/analyzer.h"
#include "util/fs.h"

namespace mnemo::index {

using lexical::BlockMeta;
using lexical::Cursor;
using lexical::DocInfo;
using lexical::kNoDoc;
using lexical::kNoTime;
using lexical::PostingList;

namespace {

constexpr double kK1 = 1.2;
constexpr double kB = 0.75;
// Bounds are compared with a relative margin, so that a bound equal to a score up to
// floating-point rounding (summed in another order) never prunes that score.
constexpr double kBoundMargin = 1e-9;
constexpr int kKinds = 5;  // Kind::kEpisode .. Kind::kSummary
constexpr uint8_t kLive = 1, kRetired = 2, kArchived = 4, kQuarantined = 8;
constexpr uint8_t kHiddenFlags = kRetired | kArchived | kQuarantined;

constexpr char kMagic[8] = {'M', 'N', 'E', 'M', 'O', 'L', 'E', 'X'};
constexpr char kEndMagic[8] = {'M', 'N', 'E', 'M', 'O', 'E', 'N', 'D'};
constexpr uint32_t kVersion = 5;  // 2: partitions by (user, kind, hidden); 3: columns;
                                  // 4: list tails in bulk; 5: sensitivity labels

uint64_t Fnv1a(std::string_view a, std::string_view b) {
  uint64_t h = 1469598103934665603ULL;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
  };
  mix(a);
  h ^= 0xff;
  h *= 1099511628211ULL;
  mix(b);
  return h;
}

// Strings by ordinal with reference counts; ordinal 0 is "" and never freed. A string
// whose count drops to 0 is forgotten (its ordinal is reused), so nothing of a purged
// memory lingers in the next snapshot.
class Interner {
 public:
  Interner() {
    strings_.emplace_back();
    refs_.push_back(1);
  }
  uint32_t Find(std::string_view s) const {
    if (s.empty()) return 0;
    auto it = ids_.find(std::string(s));
    return it == ids_.end() ? kNoDoc : it->second;
  }
  uint32_t Ref(std::string_view s) {
    if (s.empty()) return 0;
    auto [it, inserted] = ids_.try_emplace(std::string(s), 0);
    if (inserted) {
      if (!free_.empty()) {
        it->second = free_.back();
        free_.pop_back();
        strings_[it->second] = std::string(s);
        refs_[it->second] = 0;
      } else {
        it->second = static_cast<uint32_t>(strings_.size());
        strings_.emplace_back(s);
        refs_.push_back(0);
      }
    }
    ++refs_[it->second];
    return it->second;
  }
  void Unref(uint32_t id) {
    if (id == 0 || id >= refs_.size() || refs_[id] == 0) return;
    if (--refs_[id] == 0) {
      ids_.erase(strings_[id]);
      std::string().swap(strings_[id]);
      free_.push_back(id);
    }
  }
  uint32_t refs(uint32_t id) const { return id < refs_.size() ? refs_[id] : 0; }
  const std::string& str(uint32_t id) const { return strings_[id]; }
  size_t capacity() const { return strings_.size(); }

  void AppendTo(std::string* out) const {
    wire::PutU32(out, static_cast<uint32_t>(strings_.size()));
    for (size_t i = 0; i < strings_.size(); ++i) {
      wire::PutBytes(out, refs_[i] > 0 ? strings_[i] : std::string());
      wire::PutU32(out, refs_[i]);
    }
  }
  bool ReadFrom(wire::Reader* r) {
    uint32_t n = 0;
    if (!r->U32(&n) || n == 0 || n > r->remaining() / 8) return false;
    strings_.assign(n, std::string());
    refs_.assign(n, 0);
    ids_.clear();
    free_.clear();
    for (uint32_t i = 0; i < n; ++i) {
      if (!r->Bytes(&strings_[i]) || !r->U32(&refs_[i])) return false;
      if (i == 0) {
        if (!strings_[0].empty()) return false;
        refs_[0] = 1;
        continue;
      }
      if (refs_[i] == 0) {
        if (!strings_[i].empty()) return false;
        free_.push_back(i);
      } else if (strings_[i].empty() || !ids_.emplace(strings_[i], i).second) {
        return false;
      }
    }
    return true;
  }
  size_t MemoryBytes() const {
    size_t n = strings_.capacity() * sizeof(std::string) + refs_.capacity() * 4;
    for (const auto& s : strings_) n += s.capacity();
    return n + ids_.size() * 64;
  }

 private:
  std::unordered_map<std::string, uint32_t> ids_;
  std::vector<std::string> strings_;
  std::vector<uint32_t> refs_;
  std::vector<uint32_t> free_;
};

void PutVarint(uint32_t v, std::string* out) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

size_t GetVarint(std::string_view s, size_t pos, uint32_t* v) {
  uint32_t result = 0;
  for (int shift = 0; shift <= 28 && pos < s.size(); shift += 7) {
    const uint32_t byte = static_cast<uint8_t>(s[pos++]);
    result |= (byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return pos;
    }
  }
  return std::string::npos;
}

// Partitions: (user, kind, hidden). Hidden memories (retired, archived or quarantined) are kept
// apart so that a default search never walks the postings of superseded facts and archived turns,
// however many accumulate.
uint64_t PartKey(uint32_t user, int kind, bool hidden) {
  return (static_cast<uint64_t>(user) << 4) | (static_cast<uint64_t>(kind) << 1) |
         (hidden ? 1u : 0u);
}
int KindOfKey(uint64_t key) { return static_cast<int>((key >> 1) & 7); }
bool HiddenKey(uint64_t key) { return (key & 1) != 0; }

}  // namespace

LexicalDoc AnalyzeMemory(const Memory& m, MemoryId prev_in_session) {
  LexicalDoc d;
  d.id = m.id;
  d.user = m.user_id;
  d.session = m.session_id;
  d.agent = m.agent_id;
  d.kind = m.kind;
  d.retired = m.state == State::kRetired;
  d.archived = m.tier == Tier::kArchived;
  d.quarantined = !m.quarantine.empty();
  d.labels = m.labels;
  d.event_time = m.event_time;
  d.prev_in_session = prev_in_session;
  d.text_hash = Fnv1a(m.text, m.speaker);
  // Every occurrence, then sorted and merged: cheaper than a map for the tens of terms
  // of a message.
  std::vector<std::pair<std::string, uint32_t>> all;
  uint32_t length = 0;
  text::ForEachTerm(m.text, [&](std::string_view term, size_t, size_t) {
    all.emplace_back(std::string(term), 2);
    ++length;
  });
  text::ForEachTerm(m.speaker, [&](std::string_view term, size_t, size_t) {
    all.emplace_back(std::string(term), 1);
    ++length;
  });
  std::sort(all.begin(), all.end());
  d.terms.reserve(all.size());
  for (size_t i = 0; i < all.size();) {
    uint32_t f2 = 0;
    size_t j = i;
    for (; j < all.size() && all[j].first == all[i].first; ++j) f2 += all[j].second;
    d.terms.emplace_back(std::move(all[i].first), static_cast<uint8_t>(std::min(f2, 255u)));
    i = j;
  }
  d.length = static_cast<uint16_t>(std::min<uint32_t>(length + 1, 65535));  // see the header
  return d;
}

// ---- the index ---------------------------------------------------------------------------

class LexicalIndex::Impl {
 public:
  Impl() { skey_name_.push_back(0); }

  struct Partition {
    std::unordered_map<uint32_t, PostingList> lists;  // by term ordinal
    std::vector<uint32_t> docs;                       // ascending
  };

  // A filter resolved to ordinals. `none`: nothing can pass.
  struct Compiled {
    bool none = false;
    uint32_t user = kNoDoc;  // kNoDoc: any
    uint8_t kinds = 0x1f;
    uint8_t exclude = 0;  // flags a doc must not have
    uint8_t require = 0;  // flags a doc must have
    uint32_t any_labels = 0, no_labels = 0;
    uint32_t agent = kNoDoc;
    uint32_t session_name = kNoDoc;
    int64_t from = kNoTime, to = kNoTime;  // kNoTime: unbounded
    bool timed = false;
    const std::vector<MemoryId>* allow = nullptr;
  };

  mutable FairSharedMutex mu_;
  std::mutex apply_mu_;  // one Apply at a time (held across PrepareGrowth and the change)
  int64_t applied_seq_ = 0;

  // Documents by ordinal (id 0: a free slot).
  // Columns grow to megabytes: their memory comes in huge pages (large_alloc.h).
  LargeVector<MemoryId> id_;
  LargeVector<uint32_t> user_, skey_, agent_, prev_, next_;
  LargeVector<int64_t> time_;
  LargeVector<uint16_t> len_;
  LargeVector<uint8_t> kind_, flags_;
  LargeVector<uint64_t> hash_;
  LargeVector<uint32_t> labels_;  // LabelSet
  // Each document's term ordinals, sorted, as varint gaps in fwd_ at fwd_off_/fwd_len_.
  LargeString fwd_;
  LargeVector<uint32_t> fwd_off_;
  LargeVector<uint16_t> fwd_len_;
  size_t fwd_garbage_ = 0;
  std::vector<uint32_t> free_docs_;
  IdMap ord_of_;
  uint64_t live_docs_ = 0;
  uint64_t total_len_ = 0;

  Interner users_, agents_, session_names_, session_keys_, terms_;
  std::vector<uint32_t> skey_name_;  // session key -> session name ordinal
  std::vector<uint32_t> df_;         // term ordinal -> documents holding it
  std::unordered_map<uint64_t, Partition> parts_;

  DocInfo info_{[this](uint32_t d) { return len_[d]; }, [this](uint32_t d) { return time_[d]; }};

  static bool Hidden(uint8_t flags) { return (flags & kHiddenFlags) != 0; }
  uint64_t KeyOf(uint32_t doc) const {
    return PartKey(user_[doc], kind_[doc], Hidden(flags_[doc]));
  }

  // ---- writes (exclusive lock) ----

  std::vector<uint32_t> ForwardTerms(uint32_t doc) const {
    std::vector<uint32_t> out;
    const std::string_view s(fwd_.data() + fwd_off_[doc], fwd_len_[doc]);
    uint32_t prev = 0;
    for (size_t pos = 0; pos < s.size();) {
      uint32_t gap = 0;
      pos = GetVarint(s, pos, &gap);
      if (pos == std::string::npos) break;
      prev += gap;
      out.push_back(prev);
    }
    return out;
  }

  void SetForward(uint32_t doc, std::vector<uint32_t> terms) {
    std::sort(terms.begin(), terms.end());
    fwd_garbage_ += fwd_len_[doc];
    std::string enc;
    uint32_t prev = 0;
    for (uint32_t t : terms) {
      PutVarint(t - prev, &enc);
      prev = t;
    }
    if (enc.size() > 65535) enc.resize(0);  // cannot happen: 64 KiB texts have fewer terms
    fwd_off_[doc] = static_cast<uint32_t>(fwd_.size());
    fwd_len_[doc] = static_cast<uint16_t>(enc.size());
    fwd_.append(enc.data(), enc.size());
  }

  // ---- growth (shared lock, one writer) ----

  // Closures that swap larger copies of the containers in, run under the exclusive lock.
  using Adoption = std::vector<std::function<void()>>;

  // The room the documents of `upserts` need, made while searches go on: the containers
  // that would reallocate are copied into larger buffers now, under the shared lock, and
  // swapped in under the exclusive lock; growing them there would copy them (tens of MB
  // at a million documents) while writers and searches wait. Only the caller of Apply
  // changes the index (apply_mu_), so the copies stay equal to the originals meanwhile.
  Adoption PrepareGrowth(const std::vector<LexicalDoc>& upserts) {
    Adoption adopt;
    size_t term_count = 0;
    for (const auto& d : upserts) term_count += d.terms.size();
    const size_t docs = id_.size() + upserts.size();
    auto grow = [&](auto& c, size_t need) {
      if (need <= c.capacity()) return;
      using C = std::remove_reference_t<decltype(c)>;
      auto grown = std::make_shared<C>();
      grown->reserve(std::max(need, c.capacity() * 2));
      grown->assign(c.begin(), c.end());
      adopt.push_back([&c, grown] { c.swap(*grown); });
    };
    grow(id_, docs);
    grow(user_, docs);
    grow(skey_, docs);
    grow(agent_, docs);
    grow(prev_, docs);
    grow(next_, docs);
    grow(time_, docs);
    grow(len_, docs);
    grow(kind_, docs);
    grow(flags_, docs);
    grow(hash_, docs);
    grow(labels_, docs);
    grow(fwd_off_, docs);
    grow(fwd_len_, docs);
    grow(fwd_, fwd_.size() + 5 * term_count);  // a varint gap per term
    grow(df_, df_.size() + term_count);
    return adopt;
  }

  void CompactForward() {
    LargeString out;
    out.reserve(fwd_.size() - fwd_garbage_);
    for (size_t d = 0; d < id_.size(); ++d) {
      const uint32_t off = static_cast<uint32_t>(out.size());
      out.append(fwd_.data() + fwd_off_[d], fwd_len_[d]);
      fwd_off_[d] = off;
    }
    fwd_.swap(out);
    fwd_garbage_ = 0;
  }

  void RemovePostings(uint32_t doc) {
    auto pit = parts_.find(KeyOf(doc));
    for (uint32_t t : ForwardTerms(doc)) {
      if (pit != parts_.end()) {
        auto lit = pit->second.lists.find(t);
        if (lit != pit->second.lists.end()) {
          lit->second.Remove(doc, info_);
          if (lit->second.empty()) pit->second.lists.erase(lit);
        }
      }
      if (t < df_.size() && df_[t] > 0) --df_[t];
      terms_.Unref(t);
    }
    SetForward(doc, {});
    total_len_ -= len_[doc];
  }

  void AddPostings(uint32_t doc, const LexicalDoc& d) {
    Partition& part = parts_[KeyOf(doc)];
    std::vector<uint32_t> fwd;
    fwd.reserve(d.terms.size());
    for (const auto& [term, f2] : d.terms) {
      const uint32_t t = terms_.Ref(term);
      if (t >= df_.size()) df_.resize(t + 1, 0);
      ++df_[t];
      fwd.push_back(t);
      part.lists[t].Add(doc, f2, len_[doc], time_[doc], info_);
    }
    SetForward(doc, std::move(fwd));
    total_len_ += len_[doc];
  }

  void RemoveFromPartitionDocs(uint32_t doc) {
    auto pit = parts_.find(KeyOf(doc));
    if (pit == parts_.end()) return;
    auto& docs = pit->second.docs;
    auto it = std::lower_bound(docs.begin(), docs.end(), doc);
    if (it != docs.end() && *it == doc) docs.erase(it);
    if (docs.empty() && pit->second.lists.empty()) parts_.erase(pit);
  }

  void AddToPartitionDocs(uint32_t doc) {
    auto& docs = parts_[KeyOf(doc)].docs;
    if (docs.empty() || docs.back() < doc) {
      docs.push_back(doc);
    } else {
      docs.insert(std::lower_bound(docs.begin(), docs.end(), doc), doc);
    }
  }

  void Unlink(uint32_t doc) {
    if (prev_[doc] != kNoDoc && next_[prev_[doc]] == doc) next_[prev_[doc]] = kNoDoc;
    if (next_[doc] != kNoDoc && prev_[next_[doc]] == doc) prev_[next_[doc]] = kNoDoc;
    prev_[doc] = next_[doc] = kNoDoc;
  }

  void Erase(MemoryId id) {
    const uint32_t doc = ord_of_.Find(id);
    if (doc == kNoDoc) return;
    RemovePostings(doc);
    RemoveFromPartitionDocs(doc);
    Unlink(doc);
    users_.Unref(user_[doc]);
    agents_.Unref(agent_[doc]);
    ReleaseSessionKey(skey_[doc]);
    ord_of_.Erase(id);
    id_[doc] = 0;
    flags_[doc] = 0;
    labels_[doc] = 0;
    user_[doc] = skey_[doc] = agent_[doc] = 0;
    free_docs_.push_back(doc);
    --live_docs_;
  }

  uint32_t SessionKeyOf(const LexicalDoc& d) {
    if (d.session.empty()) return 0;
    std::string key = d.user;
    key.push_back('\x1f');
    key += d.session;
    const uint32_t k = session_keys_.Ref(key);
    if (k >= skey_name_.size()) skey_name_.resize(k + 1, 0);
    if (session_keys_.refs(k) == 1) skey_name_[k] = session_names_.Ref(d.session);
    return k;
  }
  void ReleaseSessionKey(uint32_t k) {
    if (k == 0) return;
    if (session_keys_.refs(k) == 1) {
      session_names_.Unref(skey_name_[k]);
      skey_name_[k] = 0;
    }
    session_keys_.Unref(k);
  }

  uint32_t NewDoc() {
    if (!free_docs_.empty()) {
      const uint32_t doc = free_docs_.back();
      free_docs_.pop_back();
      return doc;
    }
    const auto doc = static_cast<uint32_t>(id_.size());
    id_.push_back(0);
    user_.push_back(0);
    skey_.push_back(0);
    agent_.push_back(0);
    prev_.push_back(kNoDoc);
    next_.push_back(kNoDoc);
    time_.push_back(kNoTime);
    len_.push_back(0);
    kind_.push_back(0);
    flags_.push_back(0);
    hash_.push_back(0);
    labels_.push_back(0);
    fwd_off_.push_back(0);
    fwd_len_.push_back(0);
    return doc;
  }

  void Upsert(const LexicalDoc& d) {
    uint32_t doc = ord_of_.Find(d.id);
    const int64_t time = d.event_time ? *d.event_time : kNoTime;
    const uint8_t flags =
        static_cast<uint8_t>(kLive | (d.retired ? kRetired : 0) | (d.archived ? kArchived : 0) |
                             (d.quarantined ? kQuarantined : 0));
    if (doc != kNoDoc) {
      const bool reindex = hash_[doc] != d.text_hash || kind_[doc] != uint8_t(d.kind) ||
                           users_.str(user_[doc]) != d.user || time_[doc] != time ||
                           Hidden(flags_[doc]) != Hidden(flags);
      if (reindex) {
        RemovePostings(doc);
        RemoveFromPartitionDocs(doc);
      }
      const uint32_t user = users_.Ref(d.user);
      users_.Unref(user_[doc]);
      const uint32_t agent = agents_.Ref(d.agent);
      agents_.Unref(agent_[doc]);
      const uint32_t skey = SessionKeyOf(d);
      ReleaseSessionKey(skey_[doc]);
      user_[doc] = user;
      agent_[doc] = agent;
      skey_[doc] = skey;
      labels_[doc] = d.labels;
      flags_[doc] = flags;  // before AddToPartitionDocs: the partition depends on it
      if (reindex) {
        kind_[doc] = static_cast<uint8_t>(d.kind);
        time_[doc] = time;
        len_[doc] = d.length;
        hash_[doc] = d.text_hash;
        AddToPartitionDocs(doc);
        AddPostings(doc, d);
      }
    } else {
      doc = NewDoc();
      id_[doc] = d.id;
      user_[doc] = users_.Ref(d.user);
      agent_[doc] = agents_.Ref(d.agent);
      skey_[doc] = SessionKeyOf(d);
      kind_[doc] = static_cast<uint8_t>(d.kind);
      flags_[doc] = flags;
      labels_[doc] = d.labels;
      time_[doc] = time;
      len_[doc] = d.length;
      hash_[doc] = d.text_hash;
      prev_[doc] = next_[doc] = kNoDoc;
      ord_of_.Put(d.id, doc);
      ++live_docs_;
      AddToPartitionDocs(doc);
      AddPostings(doc, d);
    }
    if (d.prev_in_session != 0) {
      const uint32_t p = ord_of_.Find(d.prev_in_session);
      if (p != kNoDoc && p != doc) {
        if (prev_[doc] != kNoDoc && next_[prev_[doc]] == doc) next_[prev_[doc]] = kNoDoc;
        prev_[doc] = p;
        next_[p] = doc;
      }
    }
  }

  // ---- reads (shared lock) ----

  Compiled Compile(const LexicalFilter& f) const {
    Compiled c;
    if (!f.user.empty()) {
      c.user = users_.Find(f.user);
      if (c.user == kNoDoc) c.none = true;
    }
    if (!f.kinds.empty()) {
      c.kinds = 0;
      for (Kind k : f.kinds) c.kinds |= static_cast<uint8_t>(1u << static_cast<int>(k));
    }
    if (!f.include_retired) c.exclude |= kRetired;
    if (!f.include_archived) c.exclude |= kArchived;
    if (f.quarantined == QuarantineFilter::kExclude) c.exclude |= kQuarantined;
    if (f.quarantined == QuarantineFilter::kOnly) c.require |= kQuarantined;
    c.any_labels = f.labels;
    c.no_labels = f.exclude_labels;
    if (!f.agent.empty()) {
      c.agent = agents_.Find(f.agent);
      if (c.agent == kNoDoc) c.none = true;
    }
    if (!f.session.empty()) {
      c.session_name = session_names_.Find(f.session);
      if (c.session_name == kNoDoc) c.none = true;
    }
    if (f.time_from || f.time_to) {
      c.timed = true;
      c.from = f.time_from ? *f.time_from : std::numeric_limits<int64_t>::min() + 1;
      c.to = f.time_to ? *f.time_to : std::numeric_limits<int64_t>::max();
      if (c.to <= c.from) c.none = true;
    }
    c.allow = f.allow;
    if (c.allow && c.allow->empty()) c.none = true;
    return c;
  }

  // The user/kind/state part and everything else.
  bool Passes(uint32_t doc, const Compiled& c) const {
    const uint8_t fl = flags_[doc];
    if ((fl & kLive) == 0 || (fl & c.exclude) != 0 || (fl & c.require) != c.require) return false;
    if ((labels_[doc] & c.no_labels) != 0) return false;
    if (c.any_labels != 0 && (labels_[doc] & c.any_labels) == 0) return false;
    if (c.user != kNoDoc && user_[doc] != c.user) return false;
    if ((c.kinds & (1u << kind_[doc])) == 0) return false;
    if (c.agent != kNoDoc && agent_[doc] != c.agent) return false;
    if (c.session_name != kNoDoc && skey_name_[skey_[doc]] != c.session_name) return false;
    if (c.timed) {
      const int64_t t = time_[doc];
      if (t == kNoTime || t < c.from || t >= c.to) return false;
    }
    if (c.allow && !std::binary_search(c.allow->begin(), c.allow->end(), id_[doc])) return false;
    return true;
  }

  // The partitions a compiled filter can reach.
  std::vector<const Partition*> PartitionsFor(const Compiled& c) const {
    std::vector<const Partition*> out;
    if (c.none) return out;
    // Hidden partitions only when the filter lets retired, archived or quarantined
    // memories through.
    const bool hidden_too = (c.exclude & kHiddenFlags) != kHiddenFlags;
    if (c.user != kNoDoc) {
      for (int k = 0; k < kKinds; ++k) {
        if ((c.kinds & (1u << k)) == 0) continue;
        for (bool hidden : {false, true}) {
          if (hidden && !hidden_too) continue;
          auto it = parts_.find(PartKey(c.user, k, hidden));
          if (it != parts_.end()) out.push_back(&it->second);
        }
      }
      return out;
    }
    for (const auto& [key, part] : parts_) {
      if ((c.kinds & (1u << KindOfKey(key))) != 0 && (hidden_too || !HiddenKey(key))) {
        out.push_back(&part);
      }
    }
    return out;
  }

  struct TermStat {
    uint32_t term = kNoDoc;
    double idf = 0;
  };

  std::vector<TermStat> Stats(const std::vector<std::string>& terms) const {
    std::vector<TermStat> out;
    const double n = static_cast<double>(live_docs_);
    for (const auto& t : terms) {
      TermStat s;
      s.term = terms_.Find(t);
      if (s.term != kNoDoc && s.term < df_.size() && df_[s.term] > 0) {
        const double df = df_[s.term];
        s.idf = std::log((n - df + 0.5) / (df + 0.5));
        if (s.idf <= 0) s.idf = 1e-6;
      } else {
        s.term = kNoDoc;
      }
      out.push_back(s);
    }
    return out;
  }

  double AvgLen() const {
    return live_docs_ == 0
               ? 1.0
               : std::max(1e-9, static_cast<double>(total_len_) / static_cast<double>(live_docs_));
  }

  static double TermScore(double idf, uint8_t f2, double len, double avglen) {
    const double f = f2 * 0.5;
    return idf * (f * (kK1 + 1)) / (f + kK1 * (1 - kB + kB * len / avglen));
  }

  // Top-k bookkeeping shared across partitions: a min-heap of the best hits so far
  // under (score desc, id asc).
  struct TopK {
    size_t k;
    std::vector<LexicalHit> heap;  // worst on top
    static bool Better(const LexicalHit& a, const LexicalHit& b) {
      return a.score != b.score ? a.score > b.score : a.id < b.id;
    }
    bool full() const { return heap.size() >= k; }
    // The score a newcomer must reach (ties then compare ids); -inf until full.
    double threshold() const {
      return full() ? heap.front().score : -std::numeric_limits<double>::infinity();
    }
    void Offer(const LexicalHit& h) {
      if (full() && !Better(h, heap.front())) return;
      heap.push_back(h);
      std::push_heap(heap.begin(), heap.end(), Better);
      if (heap.size() > k) {
        std::pop_heap(heap.begin(), heap.end(), Better);
        heap.pop_back();
      }
    }
  };

  // Can a document whose score is at most `bound` still enter?
  static bool CanEnter(double bound, const TopK& top) {
    return !top.full() || bound * (1 + kBoundMargin) >= top.threshold();
  }

  // MaxScore over one partition with block-max bounds on the non-essential lists.
  void SearchPartition(const Partition& part, const std::vector<TermStat>& stats, const Compiled& c,
                       double avglen, TopK* top) const {
    struct List {
      size_t q;  // query term position
      double idf;
      double ub;
      Cursor cur;
    };
    std::vector<List> lists;
    for (size_t q = 0; q < stats.size(); ++q) {
      if (stats[q].term == kNoDoc) continue;
      auto it = part.lists.find(stats[q].term);
      if (it == part.lists.end()) continue;
      const PostingList& pl = it->second;
      const double ub = TermScore(stats[q].idf, pl.max_f2(), pl.min_len(), avglen);
      lists.push_back(List{q, stats[q].idf, ub, Cursor(&pl)});
    }
    if (lists.empty()) return;
    std::sort(lists.begin(), lists.end(), [](const List& a, const List& b) { return a.ub < b.ub; });
    const size_t n = lists.size();
    std::vector<double> prefix(n + 1, 0);  // prefix[i] = ub of lists [0, i)
    for (size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + lists[i].ub;
    // Lists [0, first) are non-essential: together they cannot lift a document in.
    size_t first = 0;
    auto update_first = [&] {
      while (first < n && !CanEnter(prefix[first + 1], *top)) ++first;
    };
    update_first();
    std::vector<double> contrib(stats.size(), 0);
    while (first < n) {
      // Skip, in the essential lists, blocks outside the filter's time range.
      if (c.timed) {
        for (size_t i = first; i < n; ++i) {
          for (;;) {
            const uint32_t d = lists[i].cur.doc();
            if (d == kNoDoc) break;
            const BlockMeta* b = lists[i].cur.ShallowBlock(d);
            if (b == nullptr ||
                (b->min_time != kNoTime && b->max_time >= c.from && b->min_time < c.to)) {
              break;
            }
            if (b->last_doc == kNoDoc) break;
            lists[i].cur.NextGeq(b->last_doc + 1);
          }
        }
      }
      uint32_t doc = kNoDoc;
      for (size_t i = first; i < n; ++i) doc = std::min(doc, lists[i].cur.doc());
      if (doc == kNoDoc) break;
      if (!Passes(doc, c)) {
        for (size_t i = first; i < n; ++i) {
          if (lists[i].cur.doc() == doc) lists[i].cur.Next();
        }
        continue;
      }
      const double len = len_[doc];
      double score = 0;
      std::fill(contrib.begin(), contrib.end(), 0.0);
      for (size_t i = first; i < n; ++i) {
        if (lists[i].cur.doc() != doc) continue;
        const double s = TermScore(lists[i].idf, lists[i].cur.f2(), len, avglen);
        contrib[lists[i].q] = s;
        score += s;
        lists[i].cur.Next();
      }
      bool dropped = false;
      for (size_t i = first; i-- > 0;) {
        if (!CanEnter(score + prefix[i + 1], *top)) {
          dropped = true;
          break;
        }
        // Block-max: the block that would hold `doc` bounds this list's part.
        const BlockMeta* b = lists[i].cur.ShallowBlock(doc);
        if (b == nullptr || b->first_doc > doc) continue;
        const double block_ub = TermScore(lists[i].idf, b->max_f2, b->min_len, avglen);
        if (!CanEnter(score + block_ub + prefix[i], *top)) {
          dropped = true;
          break;
        }
        lists[i].cur.NextGeq(doc);
        if (lists[i].cur.doc() != doc) continue;
        const double s = TermScore(lists[i].idf, lists[i].cur.f2(), len, avglen);
        contrib[lists[i].q] = s;
        score += s;
      }
      if (dropped) continue;
      double exact = 0;  // summed in query-term order: identical to exhaustive scoring
      for (double x : contrib) exact += x;
      top->Offer(LexicalHit{id_[doc], exact});
      update_first();
    }
  }

  // Scores every document of the filter's allow list directly (few documents).
  void ScoreAllowed(const std::vector<TermStat>& stats, const Compiled& c, double avglen,
                    TopK* top) const {
    for (MemoryId id : *c.allow) {
      const uint32_t doc = ord_of_.Find(id);
      if (doc == kNoDoc || !Passes(doc, c)) continue;
      const double s = ScoreDoc(doc, stats, avglen);
      if (s > 0) top->Offer(LexicalHit{id, s});
    }
  }

  double ScoreDoc(uint32_t doc, const std::vector<TermStat>& stats, double avglen) const {
    auto pit = parts_.find(KeyOf(doc));
    if (pit == parts_.end()) return 0;
    double score = 0;
    for (const auto& s : stats) {
      if (s.term == kNoDoc) continue;
      auto lit = pit->second.lists.find(s.term);
      if (lit == pit->second.lists.end()) continue;
      const uint8_t f2 = lit->second.Find(doc);
      if (f2 != 0) score += TermScore(s.idf, f2, len_[doc], avglen);
    }
    return score;
  }

  std::vector<LexicalHit> Search(const std::vector<std::string>& terms, const LexicalFilter& f,
                                 size_t k) const {
    std::vector<LexicalHit> out;
    if (k == 0 || terms.empty()) return out;
    const Compiled c = Compile(f);
    if (c.none) return out;
    const auto stats = Stats(terms);
    if (std::all_of(stats.begin(), stats.end(), [](const TermStat& s) { return s.term == kNoDoc; }))
      return out;
    const double avglen = AvgLen();
    TopK top{k, {}};
    const auto parts = PartitionsFor(c);
    size_t postings = 0;
    for (const Partition* p : parts) {
      for (const auto& s : stats) {
        if (s.term == kNoDoc) continue;
        auto it = p->lists.find(s.term);
        if (it != p->lists.end()) postings += it->second.size();
      }
    }
    // A short allow list is cheaper to score document by document than to intersect
    // with the posting lists.
    if (c.allow && c.allow->size() * stats.size() * 4 < postings) {
      ScoreAllowed(stats, c, avglen, &top);
    } else {
      for (const Partition* p : parts) SearchPartition(*p, stats, c, avglen, &top);
    }
    out = std::move(top.heap);
    std::sort(out.begin(), out.end(), TopK::Better);
    return out;
  }

  std::vector<LexicalHit> Score(const std::vector<std::string>& terms,
                                const std::vector<MemoryId>& ids) const {
    std::vector<LexicalHit> out;
    const auto stats = Stats(terms);
    const double avglen = AvgLen();
    for (MemoryId id : ids) {
      const uint32_t doc = ord_of_.Find(id);
      if (doc == kNoDoc) continue;
      const double s = ScoreDoc(doc, stats, avglen);
      if (s > 0) out.push_back(LexicalHit{id, s});
    }
    return out;
  }

  std::vector<MemoryId> Matching(const LexicalFilter& f, size_t limit, bool* more) const {
    std::vector<MemoryId> out;
    *more = false;
    const Compiled c = Compile(f);
    for (const Partition* p : PartitionsFor(c)) {
      for (uint32_t doc : p->docs) {
        if (!Passes(doc, c)) continue;
        if (out.size() >= limit) {
          *more = true;
          return out;
        }
        out.push_back(id_[doc]);
      }
    }
    return out;
  }

  std::vector<MemoryId> Latest(const LexicalFilter& f, size_t n) const {
    const Compiled c = Compile(f);
    // The newest of each partition (ordinals grow with indexing), then the newest overall.
    std::vector<uint32_t> docs;
    for (const Partition* p : PartitionsFor(c)) {
      size_t taken = 0;
      for (auto it = p->docs.rbegin(); it != p->docs.rend() && taken < n; ++it) {
        if (!Passes(*it, c)) continue;
        docs.push_back(*it);
        ++taken;
      }
    }
    std::sort(docs.rbegin(), docs.rend());
    if (docs.size() > n) docs.resize(n);
    std::vector<MemoryId> out;
    out.reserve(docs.size());
    for (uint32_t d : docs) out.push_back(id_[d]);
    return out;
  }

  size_t CountScope(const LexicalFilter& f) const {
    Compiled c = Compile(f);
    size_t n = 0;
    for (const Partition* p : PartitionsFor(c)) n += p->docs.size();
    return n;
  }

  // ---- snapshot ----

  void Serialize(std::string* out) const {
    wire::PutI64(out, applied_seq_);
    wire::PutU64(out, live_docs_);
    wire::PutU64(out, total_len_);
    // The document table column by column, in bulk; term lists compacted.
    wire::PutArray(out, id_);
    wire::PutArray(out, user_);
    wire::PutArray(out, skey_);
    wire::PutArray(out, agent_);
    wire::PutArray(out, prev_);
    wire::PutArray(out, next_);
    wire::PutArray(out, time_);
    wire::PutArray(out, len_);
    wire::PutArray(out, kind_);
    wire::PutArray(out, flags_);
    wire::PutArray(out, hash_);
    wire::PutArray(out, labels_);
    wire::PutArray(out, fwd_len_);
    // The live term lists back to back, as wire::PutBytes writes a string.
    wire::PutU32(out, static_cast<uint32_t>(fwd_.size() - fwd_garbage_));
    for (size_t d = 0; d < id_.size(); ++d) out->append(fwd_.data() + fwd_off_[d], fwd_len_[d]);
    users_.AppendTo(out);
    agents_.AppendTo(out);
    session_names_.AppendTo(out);
    session_keys_.AppendTo(out);
    terms_.AppendTo(out);
    wire::PutArray(out, skey_name_);
    wire::PutArray(out, df_);
    wire::PutU32(out, static_cast<uint32_t>(parts_.size()));
    for (const auto& [key, part] : parts_) {
      wire::PutU64(out, key);
      wire::PutArray(out, part.docs);
      wire::PutU32(out, static_cast<uint32_t>(part.lists.size()));
      for (const auto& [term, list] : part.lists) {
        wire::PutU32(out, term);
        list.AppendTo(out);
      }
    }
  }

  // Parses and checks a payload; false on any inconsistency.
  bool Deserialize(std::string_view in) {
    wire::Reader r(in, 0);
    if (!r.I64(&applied_seq_) || !r.U64(&live_docs_) || !r.U64(&total_len_)) return false;
    if (!r.Array(&id_) || !r.Array(&user_) || !r.Array(&skey_) || !r.Array(&agent_) ||
        !r.Array(&prev_) || !r.Array(&next_) || !r.Array(&time_) || !r.Array(&len_) ||
        !r.Array(&kind_) || !r.Array(&flags_) || !r.Array(&hash_) || !r.Array(&labels_) ||
        !r.Array(&fwd_len_) || !r.Bytes(&fwd_)) {
      return false;
    }
    const size_t count = id_.size();
    if (count > kNoDoc) return false;
    const auto n = static_cast<uint32_t>(count);
    for (const size_t size : {user_.size(), skey_.size(), agent_.size(), prev_.size(), next_.size(),
                              time_.size(), len_.size(), kind_.size(), flags_.size(), hash_.size(),
                              labels_.size(), fwd_len_.size()}) {
      if (size != count) return false;
    }
    fwd_off_.resize(count);
    size_t at = 0;
    for (uint32_t d = 0; d < n; ++d) {
      fwd_off_[d] = static_cast<uint32_t>(at);
      at += fwd_len_[d];
      if (at > fwd_.size() || kind_[d] >= kKinds) return false;
      if ((prev_[d] != kNoDoc && prev_[d] >= n) || (next_[d] != kNoDoc && next_[d] >= n)) {
        return false;
      }
    }
    if (at != fwd_.size()) return false;
    if (!users_.ReadFrom(&r) || !agents_.ReadFrom(&r) || !session_names_.ReadFrom(&r) ||
        !session_keys_.ReadFrom(&r) || !terms_.ReadFrom(&r)) {
      return false;
    }
    if (!r.Array(&skey_name_) || skey_name_.empty() || !r.Array(&df_)) return false;
    for (uint32_t v : skey_name_) {
      if (v >= session_names_.capacity()) return false;
    }
    uint64_t live = 0;
    uint64_t total = 0;
    for (uint32_t d = 0; d < n; ++d) {
      if (id_[d] == 0) {
        if (flags_[d] != 0) return false;
        free_docs_.push_back(d);
        continue;
      }
      if ((flags_[d] & kLive) == 0 || id_[d] < 0) return false;
      if (user_[d] >= users_.capacity() || agent_[d] >= agents_.capacity() ||
          skey_[d] >= session_keys_.capacity() || skey_[d] >= skey_name_.size()) {
        return false;
      }
      for (uint32_t t : ForwardTerms(d)) {
        if (t >= df_.size() || t >= terms_.capacity()) return false;
      }
      if (ord_of_.Find(id_[d]) != kNoDoc) return false;
      ord_of_.Put(id_[d], d);
      ++live;
      total += len_[d];
    }
    if (live != live_docs_ || total != total_len_) return false;
    uint32_t nparts = 0;
    if (!r.U32(&nparts)) return false;
    for (uint32_t i = 0; i < nparts; ++i) {
      uint64_t key = 0;
      if (!r.U64(&key) || KindOfKey(key) >= kKinds) return false;
      Partition& part = parts_[key];
      if (!r.Array(&part.docs)) return false;
      for (uint32_t d : part.docs) {
        if (d >= n || id_[d] == 0 || KeyOf(d) != key) return false;
      }
      if (!std::is_sorted(part.docs.begin(), part.docs.end())) return false;
      uint32_t nlists = 0;
      if (!r.U32(&nlists)) return false;
      for (uint32_t j = 0; j < nlists; ++j) {
        uint32_t term = 0;
        if (!r.U32(&term) || term >= df_.size()) return false;
        size_t pos = r.pos();
        PostingList list;
        if (!list.ReadFrom(in, &pos, n)) return false;
        r.Seek(pos);
        if (!part.lists.emplace(term, std::move(list)).second) return false;
      }
    }
    return r.remaining() == 0;
  }
};

LexicalIndex::LexicalIndex(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LexicalIndex::~LexicalIndex() = default;

std::unique_ptr<LexicalIndex> LexicalIndex::Create() {
  return std::unique_ptr<LexicalIndex>(new LexicalIndex(std::make_unique<Impl>()));
}

Result<std::unique_ptr<LexicalIndex>> LexicalIndex::Load(const std::string& path) {
  if (!util::PathExists(path)) return Status::NotFound("no lexical index snapshot at " + path);
  MNEMO_ASSIGN_OR_RETURN(std::string file, util::ReadFile(path));
  auto bad = [&](const std::string& why) {
    return Status::Corruption("lexical index snapshot " + path + ": " + why);
  };
  constexpr size_t kHeader = sizeof kMagic + 4 + 8;  // magic, version, payload size
  constexpr size_t kTrailer = 4 + sizeof kEndMagic;
  if (file.size() < kHeader + kTrailer) return bad("truncated");
  if (std::memcmp(file.data(), kMagic, sizeof kMagic) != 0) return bad("bad magic");
  wire::Reader hr(file, sizeof kMagic);
  uint32_t version = 0;
  uint64_t size = 0;
  hr.U32(&version);
  hr.U64(&size);
  if (version != kVersion) return bad("unsupported version " + std::to_string(version));
  if (size != file.size() - kHeader - kTrailer) return bad("truncated or padded payload");
  if (std::memcmp(file.data() + file.size() - sizeof kEndMagic, kEndMagic, sizeof kEndMagic) != 0)
    return bad("bad end magic");
  wire::Reader tr(file, file.size() - kTrailer);
  uint32_t crc = 0;
  tr.U32(&crc);
  const auto actual = static_cast<uint32_t>(::crc32(0, reinterpret_cast<const Bytef*>(file.data()),
                                                    static_cast<uInt>(file.size() - kTrailer)));
  if (crc != actual) return bad("checksum mismatch");
  auto impl = std::make_unique<Impl>();
  if (!impl->Deserialize(std::string_view(file).substr(kHeader, size))) {
    return bad("inconsistent payload");
  }
  std::unique_ptr<LexicalIndex> index(new LexicalIndex(std::move(impl)));
  index->last_save_bytes_ = file.size();
  index->last_save_docs_ = std::max<size_t>(index->doc_count(), 1);
  return index;
}

Result<int64_t> LexicalIndex::Save(const std::string& path) const {
  // Writers wait while the payload is copied, so the copy runs at memory speed: into a
  // buffer sized from the last snapshot's bytes per document and touched beforehand (its
  // page faults, expensive on a VM, are taken before the lock; growing it under the lock
  // would copy it all again).
  std::string file;
  const size_t last_bytes = last_save_bytes_.load(std::memory_order_relaxed);
  const size_t last_docs = last_save_docs_.load(std::memory_order_relaxed);
  if (last_bytes > 0 && last_docs > 0) {
    const double per_doc = static_cast<double>(last_bytes) / static_cast<double>(last_docs);
    file.resize(static_cast<size_t>(per_doc * 1.1 * static_cast<double>(doc_count())) +
                (size_t{1} << 20));
    file.clear();
  }
  file.append(kMagic, sizeof kMagic);
  wire::PutU32(&file, kVersion);
  const size_t size_at = file.size();
  wire::PutU64(&file, 0);
  int64_t seq = 0;
  {
    std::shared_lock<FairSharedMutex> lock(impl_->mu_);
    seq = impl_->applied_seq_;
    impl_->Serialize(&file);
  }
  last_save_bytes_.store(file.size(), std::memory_order_relaxed);
  last_save_docs_.store(std::max<size_t>(doc_count(), 1), std::memory_order_relaxed);
  const uint64_t size = file.size() - size_at - 8;
  std::string size_bytes;
  wire::PutU64(&size_bytes, size);
  file.replace(size_at, 8, size_bytes);
  const auto crc = static_cast<uint32_t>(
      ::crc32(0, reinterpret_cast<const Bytef*>(file.data()), static_cast<uInt>(file.size())));
  wire::PutU32(&file, crc);
  file.append(kEndMagic, sizeof kEndMagic);
  MNEMO_RETURN_IF_ERROR(
      util::WriteFileAtomic(path, file).WithContext("lexical index snapshot " + path));
  return seq;
}

void LexicalIndex::Apply(int64_t seq, std::vector<LexicalDoc> upserts,
                         const std::vector<MemoryId>& erases) {
  std::lock_guard<std::mutex> writer(impl_->apply_mu_);
  Impl::Adoption grown;
  {
    std::shared_lock<FairSharedMutex> lock(impl_->mu_);
    grown = impl_->PrepareGrowth(upserts);
  }
  std::unique_lock<FairSharedMutex> lock(impl_->mu_);
  for (auto& adopt : grown) adopt();
  for (MemoryId id : erases) impl_->Erase(id);
  for (const auto& d : upserts) impl_->Upsert(d);
  if (seq > impl_->applied_seq_) impl_->applied_seq_ = seq;
  if (impl_->fwd_garbage_ > impl_->fwd_.size() / 2 && impl_->fwd_garbage_ > (1u << 20)) {
    impl_->CompactForward();
  }
}

int64_t LexicalIndex::applied_seq() const {
  std::shared_lock<FairSharedMutex> lock(impl_->mu_);
  return impl_->applied_seq_;
}

size_t LexicalIndex::doc_count() const {
  std::shared_lock<FairSharedMutex> lock(impl_->mu_);
  return impl_->live_docs_;
}

size_t LexicalIndex::MemoryBytes() const {
  std::shared_lock<FairSharedMutex> lock(impl_->mu_);
  const Impl& d = *impl_;
  size_t n = d.id_.capacity() * (8 + 4 * 5 + 8 + 2 + 1 + 1 + 8 + 4 + 4 + 2) + d.fwd_.capacity() +
             d.ord_of_.MemoryBytes() + d.users_.MemoryBytes() + d.agents_.MemoryBytes() +
             d.session_names_.MemoryBytes() + d.session_keys_.MemoryBytes() +
             d.terms_.MemoryBytes() + d.df_.capacity() * 4;
  for (const auto& [key, part] : d.parts_) {
    n += 64 + part.docs.capacity() * 4;
    for (const auto& [term, list] : part.lists) n += 32 + list.MemoryBytes();
  }
  return n;
}

LexicalIndex::View LexicalIndex::Read() const { return View(impl_.get()); }

LexicalIndex::View::View(const Impl* impl) : impl_(impl) { impl_->mu_.lock_shared(); }
LexicalIndex::View::View(View&& other) noexcept : impl_(other.impl_) { other.impl_ = nullptr; }
LexicalIndex::View::~View() {
  if (impl_) impl_->mu_.unlock_shared();
}

std::vector<LexicalHit> LexicalIndex::View::Search(const std::vector<std::string>& terms,
                                                   const LexicalFilter& f, size_t k) const {
  return impl_->Search(terms, f, k);
}

std::vector<std::string> LexicalIndex::View::Selective(const std::vector<std::string>& terms,
                                                       double fraction) const {
  std::vector<std::string> out;
  const double limit = fraction * static_cast<double>(impl_->live_docs_);
  for (const auto& t : terms) {
    const uint32_t id = impl_->terms_.Find(t);
    if (id == kNoDoc || id >= impl_->df_.size() || impl_->df_[id] <= limit) out.push_back(t);
  }
  return out;
}

std::vector<LexicalHit> LexicalIndex::View::Score(const std::vector<std::string>& terms,
                                                  const std::vector<MemoryId>& ids) const {
  return impl_->Score(terms, ids);
}

std::vector<MemoryId> LexicalIndex::View::Matching(const LexicalFilter& f, size_t limit,
                                                   bool* more) const {
  return impl_->Matching(f, limit, more);
}

std::vector<MemoryId> LexicalIndex::View::Latest(const LexicalFilter& f, size_t n) const {
  return impl_->Latest(f, n);
}

size_t LexicalIndex::View::CountScope(const LexicalFilter& f) const { return impl_->CountScope(f); }

bool LexicalIndex::View::Passes(MemoryId id, const LexicalFilter& f) const {
  const uint32_t doc = impl_->ord_of_.Find(id);
  return doc != kNoDoc && impl_->Passes(doc, impl_->Compile(f));
}

bool LexicalIndex::View::Contains(MemoryId id) const { return impl_->ord_of_.Find(id) != kNoDoc; }

MemoryId LexicalIndex::View::Previous(MemoryId id) const {
  const uint32_t doc = impl_->ord_of_.Find(id);
  if (doc == kNoDoc || impl_->prev_[doc] == kNoDoc) return 0;
  return impl_->id_[impl_->prev_[doc]];
}

MemoryId LexicalIndex::View::Next(MemoryId id) const {
  const uint32_t doc = impl_->ord_of_.Find(id);
  if (doc == kNoDoc || impl_->next_[doc] == kNoDoc) return 0;
  return impl_->id_[impl_->next_[doc]];
}

uint32_t LexicalIndex::View::SessionKey(MemoryId id) const {
  const uint32_t doc = impl_->ord_of_.Find(id);
  return doc == kNoDoc ? 0 : impl_->skey_[doc];
}

std::optional<TimeMs> LexicalIndex::View::EventTime(MemoryId id) const {
  const uint32_t doc = impl_->ord_of_.Find(id);
  if (doc == kNoDoc || impl_->time_[doc] == kNoTime) return std::nullopt;
  return impl_->time_[doc];
}

}  // namespace mnemo::index

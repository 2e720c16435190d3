#include "engine/context.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include "util/json_codec.h"
#include "util/time_util.h"
#include "util/utf8.h"
#include "write/derived.h"
#include "write/llm_extract.h"

namespace mnemo::engine {
namespace {

constexpr int kMaxProfileRows = 5000;  // slot memories read per profile (newest first)

struct SlotMemory {
  Memory memory;
  std::string slot;
  std::string value;
  int polarity = 1;  // -1: the memory negates the slot ("Sam doesn't live in Oslo")
  bool edited = false;
};

// The user's active facts and preferences that carry a slot, newest first, but those with
// a label of `exclude`.
Result<std::vector<SlotMemory>> SlotMemories(Engine& e, const std::string& space,
                                             const std::string& user, LabelSet exclude = 0) {
  std::vector<SlotMemory> out;
  ListRequest req;
  req.filter.user_id = user;
  req.filter.exclude_labels = exclude;
  req.filter.kinds = {Kind::kFact, Kind::kPreference};
  req.descending = true;
  req.limit = 1000;
  for (int read = 0; read < kMaxProfileRows;) {
    MNEMO_ASSIGN_OR_RETURN(ListPage page, e.List(space, req));
    read += static_cast<int>(page.memories.size());
    for (auto& m : page.memories) {
      auto meta = util::ParseStoredJson(m.metadata);
      if (!meta.ok() || !meta->is_object()) continue;
      auto slot = meta->find("slot");
      if (slot == meta->end() || !slot->is_string() || slot->get<std::string>().empty()) continue;
      SlotMemory s;
      s.slot = slot->get<std::string>();
      if (auto v = meta->find("value"); v != meta->end() && v->is_string()) s.value = *v;
      if (auto p = meta->find("profile"); p != meta->end() && p->is_boolean()) s.edited = *p;
      if (auto p = meta->find("polarity"); p != meta->end() && p->is_number()) {
        s.polarity = p->get<double>() < 0 ? -1 : 1;
      }
      s.memory = std::move(m);
      out.push_back(std::move(s));
    }
    if (page.next_cursor.empty()) break;
    req.cursor = page.next_cursor;
  }
  return out;
}

Status CheckUser(const std::string& user) {
  if (user.empty()) return Status::InvalidArgument("user is required").WithField("user");
  return Status::Ok();
}

// "2024-03-01 10:00" (UTC).
std::string Minute(TimeMs t) {
  const std::string iso = util::FormatIso8601(t);
  return iso.substr(0, 10) + " " + iso.substr(11, 5);
}

TimeMs WhenOf(const Memory& m) {
  return m.event_time.value_or(m.valid_from.value_or(m.created_at));
}

// What a derived memory is ("fact: "; its text names whom it is about), or who said it.
std::string Who(const Memory& m) {
  if (m.kind != Kind::kEpisode) return std::string(KindName(m.kind)) + ": ";
  if (!m.speaker.empty()) return m.speaker + ": ";
  return m.role.empty() ? std::string() : m.role + ": ";
}

std::string Pretty(std::string_view key) {
  std::string out(key);
  std::replace(out.begin(), out.end(), '_', ' ');
  return out;
}

// `field`: the request list that holds the key ("set" or "unset"). Keys are what the
// pipeline derives as slots ("home_city", "likes:cilantro", "favorite:programming
// language"), so any text of 1-200 bytes without control characters or surrounding
// spaces: every key the profile shows can be set and unset.
Status CheckKey(const std::string& key, const char* field) {
  bool ok = !key.empty() && key.size() <= 200 && key.front() != ' ' && key.back() != ' ' &&
            util::IsValidUtf8(key);
  for (char c : key) ok = ok && static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
  if (!ok) {
    return Status::InvalidArgument("invalid profile key " + util::DumpJson(util::Json(key)) +
                                   ": use 1-200 bytes of UTF-8 text without control "
                                   "characters or surrounding spaces")
        .WithField(field);
  }
  return Status::Ok();
}

std::string Lowercase(std::string s) {
  for (char& c : s) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return s;
}

// Retires every active memory of `user` with `slot` except `keep`, closing its validity.
Result<int> RetireSlot(Engine& e, const std::string& space, const std::string& user,
                       const std::string& slot, MemoryId keep, TimeMs now, const std::string& why) {
  MNEMO_ASSIGN_OR_RETURN(auto rows, SlotMemories(e, space, user));
  int retired = 0;
  for (const auto& s : rows) {
    if (s.slot != slot || s.memory.id == keep) continue;
    MemoryUpdate u;
    u.valid_to = std::optional<TimeMs>(std::max(now, s.memory.valid_from.value_or(now)));
    u.reason = why;
    u.actor = "profile";
    MNEMO_RETURN_IF_ERROR(e.Update(space, s.memory.id, u).status());
    MNEMO_RETURN_IF_ERROR(e.Remove(space, s.memory.id, why));
    ++retired;
  }
  return retired;
}

}  // namespace

Result<Profile> ReadProfile(Engine& e, const std::string& space, const std::string& user, int limit,
                            LabelSet exclude_labels) {
  MNEMO_RETURN_IF_ERROR(CheckUser(user));
  if (limit < 1 || limit > kMaxProfileEntries) {
    return Status::InvalidArgument("limit must be between 1 and " +
                                   std::to_string(kMaxProfileEntries))
        .WithField("limit");
  }
  MNEMO_ASSIGN_OR_RETURN(auto rows, SlotMemories(e, space, user, exclude_labels));
  Profile p;
  p.user = user;
  std::set<std::string> seen;
  std::vector<ProfileEntry> facts, prefs;
  for (auto& s : rows) {
    if (!seen.insert(s.slot).second) continue;  // an older memory of a slot already shown
    std::string value = s.value;
    if (write::IsYesNoSlot(s.slot)) {
      if (value.empty()) value = s.polarity < 0 ? "no" : "yes";  // written before yes/no
    } else if (s.polarity < 0) {
      continue;  // the newest memory of the slot negates it: the user has no value now
    }
    if (write::IsDefaultValue(s.slot, value)) continue;  // "not allergic to peanuts" now
    ProfileEntry entry;
    entry.key = s.slot;
    entry.value = std::move(value);
    entry.text = s.memory.text;
    entry.kind = s.memory.kind;
    entry.memory_id = s.memory.id;
    entry.since = s.memory.valid_from;
    entry.edited = s.edited;
    (s.memory.kind == Kind::kFact ? facts : prefs).push_back(std::move(entry));
  }
  for (auto* list : {&facts, &prefs}) {
    for (auto& entry : *list) {
      if (p.entries.size() == static_cast<size_t>(limit)) break;
      p.entries.push_back(std::move(entry));
    }
  }
  return p;
}

Result<Profile> ApplyProfileEdit(Engine& e, const std::string& space, const ProfileEdit& edit,
                                 TimeMs now) {
  MNEMO_RETURN_IF_ERROR(CheckUser(edit.user));
  if (edit.set.empty() && edit.unset.empty()) {
    return Status::InvalidArgument("a profile edit needs at least one key to set or unset")
        .WithField("set");
  }
  // Everything is checked before anything is written.
  std::vector<std::pair<std::string, std::string>> set;
  for (const auto& [key, value] : edit.set) {
    const std::string k = Lowercase(key);
    MNEMO_RETURN_IF_ERROR(CheckKey(k, "set"));
    if (value.empty() || value.size() > 1000) {
      return Status::InvalidArgument("the value of profile key \"" + k +
                                     "\" must be 1-1000 bytes (unset the key to remove it)")
          .WithField("set");
    }
    set.emplace_back(k, value);
  }
  std::vector<std::string> unset;
  if (!edit.unset.empty()) {
    MNEMO_ASSIGN_OR_RETURN(auto rows, SlotMemories(e, space, edit.user));
    std::set<std::string> present;
    for (const auto& s : rows) present.insert(s.slot);
    for (const auto& key : edit.unset) {
      const std::string k = Lowercase(key);
      if (!present.count(k)) MNEMO_RETURN_IF_ERROR(CheckKey(k, "unset"));
      if (std::any_of(set.begin(), set.end(), [&](const auto& kv) { return kv.first == k; })) {
        return Status::InvalidArgument("profile key \"" + k + "\" is both set and unset")
            .WithField("unset");
      }
      if (!present.count(k)) {
        return Status::NotFound("user \"" + edit.user + "\" has no profile entry \"" + k + "\"")
            .WithField("unset");
      }
      unset.push_back(k);
    }
  }
  const std::string because = edit.reason.empty() ? "" : ": " + edit.reason;
  for (const auto& [key, value] : set) {
    MemoryInput in;
    in.user_id = edit.user;
    in.kind = Kind::kFact;
    in.text = edit.user + "'s " + Pretty(key) + ": " + value;
    in.valid_from = now;
    in.importance = 1.0;
    in.metadata = util::DumpJson(
        util::Json{{"slot", key}, {"value", value}, {"subject", edit.user}, {"profile", true}});
    MNEMO_ASSIGN_OR_RETURN(MemoryId id, e.Add(space, in));
    MNEMO_RETURN_IF_ERROR(
        RetireSlot(e, space, edit.user, key, id, now,
                   "superseded by profile edit (memory " + std::to_string(id) + ")" + because)
            .status());
  }
  for (const auto& key : unset) {
    MNEMO_RETURN_IF_ERROR(
        RetireSlot(e, space, edit.user, key, 0, now, "removed from the profile" + because)
            .status());
  }
  return ReadProfile(e, space, edit.user, 100);
}

Result<ContextResult> AssembleContext(Engine& e, const std::string& space, const ContextRequest& r,
                                      TimeMs now) {
  MNEMO_RETURN_IF_ERROR(CheckUser(r.user));
  if (r.query.empty()) return Status::InvalidArgument("query is required").WithField("query");
  auto range = [](int64_t v, int64_t min, int64_t max, const char* field) {
    if (v >= min && v <= max) return Status::Ok();
    return Status::InvalidArgument(std::string(field) + " must be between " + std::to_string(min) +
                                   " and " + std::to_string(max))
        .WithField(field);
  };
  MNEMO_RETURN_IF_ERROR(range(r.budget_tokens, kMinContextBudget, kMaxContextBudget, "budget"));
  MNEMO_RETURN_IF_ERROR(range(r.k, 1, kMaxContextK, "k"));
  MNEMO_RETURN_IF_ERROR(range(r.profile_entries, 0, kMaxProfileEntries, "profile_entries"));
  const TimeMs at = r.now.value_or(now);
  auto fits = [&](size_t bytes, int64_t budget) {
    return static_cast<int64_t>(write::EstimateTokensOfBytes(bytes)) <= budget;
  };
  ContextResult out;
  out.profile.user = r.user;
  std::string text = "# Memory of " + r.user + " (now: " + Minute(at) + " UTC)\n";

  // The profile first, up to 40% of the budget: it is what every answer may need.
  std::set<MemoryId> in_profile;
  if (r.profile_entries > 0) {
    MNEMO_ASSIGN_OR_RETURN(Profile p,
                           ReadProfile(e, space, r.user, r.profile_entries, r.exclude_labels));
    std::string block;
    for (auto& entry : p.entries) {
      if (r.now && entry.since && *entry.since > at) continue;  // not yet true at `now`
      std::string line = "- " + entry.text;
      if (entry.since) line += " (since " + Minute(*entry.since).substr(0, 10) + ")";
      line += "\n";
      const size_t header = block.empty() ? std::string_view("## Profile\n").size() : 0;
      if (!fits(text.size() + block.size() + header + line.size(), r.budget_tokens * 2 / 5)) break;
      if (block.empty()) block = "## Profile\n";
      block += line;
      in_profile.insert(entry.memory_id);
      out.profile.entries.push_back(std::move(entry));
    }
    text += block;
  }

  // Then the relevant memories, chosen by relevance while they fit, shown by session in
  // time order.
  SearchRequest sr;
  sr.query = r.query;
  sr.filter.user_id = r.user;
  sr.filter.exclude_labels = r.exclude_labels;
  sr.k = r.k;
  MNEMO_ASSIGN_OR_RETURN(auto hits, e.Search(space, sr));
  const std::string title = "## Relevant memories (by session, oldest first)\n";
  const std::string none = "(none found)\n";
  size_t used = text.size() + title.size() + none.size();
  std::map<std::string, std::vector<const Memory*>> by_session;
  for (const auto& h : hits) {
    const Memory& m = h.memory;
    if (in_profile.count(m.id)) continue;
    if (r.now && WhenOf(m) > at) continue;  // after the reference time
    // Upper bounds of what the memory adds: its line ("- [" minute "] " who text "\n") and,
    // first in its session, the session's header line.
    const size_t line = 22 + Who(m).size() + m.text.size() + 1;
    const size_t header = by_session.count(m.session_id) ? 0 : 30 + m.session_id.size();
    if (!fits(used + line + header, r.budget_tokens)) {
      ++out.omitted;
      continue;
    }
    used += line + header;
    by_session[m.session_id].push_back(&m);
  }
  // Sessions by their first memory's time; memories by time.
  std::vector<std::pair<TimeMs, std::string>> order;
  for (auto& [session, ms] : by_session) {
    std::sort(ms.begin(), ms.end(), [](const Memory* a, const Memory* b) {
      return WhenOf(*a) != WhenOf(*b) ? WhenOf(*a) < WhenOf(*b) : a->id < b->id;
    });
    order.emplace_back(WhenOf(*ms.front()), session);
  }
  std::sort(order.begin(), order.end());
  text += title;
  if (order.empty()) text += none;
  for (const auto& [first, session] : order) {
    text += session.empty() ? "### Outside sessions\n"
                            : "### Session " + session + " (" + Minute(first).substr(0, 10) + ")\n";
    for (const Memory* m : by_session[session]) {
      text += "- [" + Minute(WhenOf(*m)) + "] " + Who(*m) + m->text + "\n";
      out.memories.push_back(m->id);
    }
  }
  out.tokens = static_cast<int64_t>(write::EstimateTokens(text));
  out.text = std::move(text);
  return out;
}

}  // namespace mnemo::engine

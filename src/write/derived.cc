#include "write/derived.h"

#include <algorithm>
#include <set>

#include "write/rule_patterns.h"

namespace mnemo::write {
namespace {

char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool WordChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         static_cast<unsigned char>(c) >= 0x80;
}

// `text` with the first whole-word, case-insensitive occurrence of `from` replaced by `to`;
// "" when there is none.
std::string ReplaceWords(std::string_view text, std::string_view from, std::string_view to) {
  if (from.empty()) return "";
  for (size_t at = 0; at + from.size() <= text.size(); ++at) {
    bool same = true;
    for (size_t k = 0; k < from.size() && same; ++k) same = Lower(text[at + k]) == Lower(from[k]);
    if (!same) continue;
    const bool starts = at == 0 || !WordChar(text[at - 1]);
    const size_t end = at + from.size();
    const bool ends = end == text.size() || !WordChar(text[end]);
    if (starts && ends) {
      return std::string(text.substr(0, at)) + std::string(to) + std::string(text.substr(end));
    }
  }
  return "";
}

// Edit distance, for words of a few letters (a typo: "initech" / "intertech").
size_t Distance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The new value is a fix of the old one: a typo away (two edits, three in words of 7
// letters or more), or as many words with one shared.
bool Close(const std::string& old_value, const std::string& new_value) {
  if (old_value == new_value) return false;
  const size_t shorter = std::min(old_value.size(), new_value.size());
  if (shorter >= 4 && old_value.size() < 40 && new_value.size() < 40 &&
      Distance(old_value, new_value) <= (shorter >= 7 ? 3u : 2u)) {
    return true;
  }
  const auto words = [](const std::string& v) {
    std::vector<std::string> out;
    size_t from = 0;
    for (size_t at; (at = v.find(' ', from)) != std::string::npos; from = at + 1)
      out.push_back(v.substr(from, at - from));
    out.push_back(v.substr(from));
    return out;
  };
  const auto a = words(old_value);
  const auto b = words(new_value);
  if (a.size() != b.size() || a.size() < 2) return false;
  for (const auto& w : a) {
    if (w.size() > 2 && std::find(b.begin(), b.end(), w) != b.end()) return true;
  }
  return false;
}

}  // namespace

std::string_view DecisionName(Decision d) {
  switch (d) {
    case Decision::kAdd:
      return "add";
    case Decision::kSupersede:
      return "supersede";
    case Decision::kMerge:
      return "merge";
    case Decision::kNoop:
      return "noop";
  }
  return "add";
}

bool IsYesNoSlot(std::string_view slot) {
  for (std::string_view prefix : {"likes:", "allergy:", "eats:", "drinks:"}) {
    if (slot.size() > prefix.size() && slot.starts_with(prefix)) return true;
  }
  return false;
}

bool IsDefaultValue(std::string_view slot, std::string_view value) {
  if (!IsYesNoSlot(slot)) return false;
  if (slot.starts_with("allergy:")) return value == "no";
  if (slot.starts_with("eats:") || slot.starts_with("drinks:")) return value == "yes";
  return false;
}

void NormaliseSlotValue(Candidate* c) {
  if (!IsYesNoSlot(c->slot)) return;
  std::string v;
  for (char ch : c->value) v += Lower(ch);
  if (v == "no" || v == "false") c->polarity = -1;
  c->value = c->polarity < 0 ? "no" : "yes";
}

std::vector<Candidate> ResolveCorrection(const Candidate& c, const std::vector<SlotValue>& known) {
  std::string old_value = internal::NormaliseValue(c.corrects);
  const std::string new_value = internal::NormaliseValue(c.correction);
  if (old_value.empty() && !new_value.empty()) {
    // "I meant Intertech": the newest value slot close to it.
    std::set<std::string> slots;
    for (const SlotValue& k : known) {
      if (!slots.insert(k.slot).second || IsYesNoSlot(k.slot)) continue;
      const std::string v = internal::NormaliseValue(k.value);
      if (!Close(v, new_value)) continue;
      Candidate resolved = c;
      resolved.corrects = k.value;
      // The stored value's own wording is what the text holds.
      for (size_t at = 0; at + v.size() <= k.text.size(); ++at) {
        std::string part;
        for (size_t q = at; q < at + v.size(); ++q) part += Lower(k.text[q]);
        if (part == v) {
          resolved.corrects = k.text.substr(at, v.size());
          break;
        }
      }
      return ResolveCorrection(resolved, known);
    }
    return {};
  }
  if (old_value.empty() || old_value == new_value) return {};
  const bool retraction = new_value.empty();  // "I left Tilde": no new value
  Candidate base = c;
  base.corrects.clear();
  base.correction.clear();
  base.polarity = 1;
  std::set<std::string> seen;  // the newest memory of a slot is its value
  for (const SlotValue& k : known) {
    if (!seen.insert(k.slot).second) continue;
    if (!IsYesNoSlot(k.slot)) {
      if (internal::NormaliseValue(k.value) != old_value) continue;
      Candidate out = base;
      out.kind = k.kind;
      out.slot = k.slot;
      out.value = retraction ? old_value : new_value;
      if (retraction) {
        out.polarity = -1;
        return {out};
      }
      std::string text = ReplaceWords(k.text, c.corrects, c.correction);
      if (!text.empty()) out.text = std::move(text);
      return {out};
    }
    const size_t colon = k.slot.find(':');
    if (k.slot.substr(colon + 1) != old_value) continue;
    Candidate no = base;
    no.kind = k.kind;
    no.slot = k.slot;
    no.polarity = -1;
    NormaliseSlotValue(&no);
    if (retraction) return {no};
    Candidate yes = base;
    yes.kind = k.kind;
    yes.slot = k.slot.substr(0, colon + 1) + new_value;
    NormaliseSlotValue(&yes);
    std::string text = ReplaceWords(k.text, c.corrects, c.correction);
    if (!text.empty()) yes.text = std::move(text);
    return {yes, no};
  }
  return {};
}

}  // namespace mnemo::write

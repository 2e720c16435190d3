#include "write/derived.h"

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

void NormaliseSlotValue(Candidate* c) {
  if (!IsYesNoSlot(c->slot)) return;
  std::string v;
  for (char ch : c->value) v += Lower(ch);
  if (v == "no" || v == "false") c->polarity = -1;
  c->value = c->polarity < 0 ? "no" : "yes";
}

std::vector<Candidate> ResolveCorrection(const Candidate& c, const std::vector<SlotValue>& known) {
  const std::string old_value = internal::NormaliseValue(c.corrects);
  const std::string new_value = internal::NormaliseValue(c.correction);
  if (old_value.empty() || new_value.empty() || old_value == new_value) return {};
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
      out.value = new_value;
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

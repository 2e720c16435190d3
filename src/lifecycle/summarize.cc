#include "lifecycle/summarize.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "text/analyzer.h"
#include "util/json_codec.h"
#include "util/time_util.h"
#include "util/utf8.h"
#include "write/extract_rules.h"

namespace mnemo::lifecycle {
namespace {

constexpr int64_t kDayMs = 86400000;
constexpr std::string_view kMonths[] = {"January",   "February", "March",    "April",
                                        "May",       "June",     "July",     "August",
                                        "September", "October",  "November", "December"};
constexpr size_t kMinSentenceTerms = 3;  // shorter sentences ("Thanks!") are never chosen
constexpr double kNearDuplicate = 0.6;   // share of terms that makes a sentence redundant

constexpr std::string_view kSystemPrompt =
    "You summarize one conversation session for a long-term memory. Answer with JSON only: "
    "{\"summary\": \"...\"}. At most 5 sentences in the third person, naming who did or "
    "said what; keep facts, plans, names, places and dates (absolute, computed from the "
    "turns' dates, never \"yesterday\"); skip greetings and small talk.";

std::string Trim(std::string_view s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  return std::string(s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1));
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Cuts at a UTF-8 boundary, appending `ellipsis` when something was cut.
std::string Cut(std::string_view s, size_t max_bytes, std::string_view ellipsis = "...") {
  if (s.size() <= max_bytes) return std::string(s);
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return Trim(s.substr(0, end)) + std::string(ellipsis);
}

std::string OneLine(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  return out;
}

// "8 May 2023" (UTC).
std::string LongDate(TimeMs t) {
  int64_t y;
  unsigned m, d;
  const int64_t days = t >= 0 ? t / kDayMs : -((-t + kDayMs - 1) / kDayMs);
  util::CivilFromDays(days, &y, &m, &d);
  return std::to_string(d) + " " + std::string(kMonths[m - 1]) + " " + std::to_string(y);
}

std::string SpeakerOf(const SummaryTurn& t) { return t.speaker.empty() ? "someone" : t.speaker; }

bool HasDigit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Capitalized words after the first one: names, places, titles.
int NamedWords(std::string_view s) {
  int n = 0;
  bool first = true;
  bool at_word_start = true;
  for (char c : s) {
    const bool letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
    if (letter && at_word_start) {
      if (!first && c >= 'A' && c <= 'Z') ++n;
      first = false;
    }
    at_word_start = !letter && c != '\'';
  }
  return n;
}

bool NamesMonth(std::string_view s) {
  for (auto m : kMonths) {
    if (s.find(m) != std::string_view::npos) return true;
  }
  return false;
}

struct Sentence {
  size_t turn = 0;
  std::string text;
  std::map<std::string, int> terms;  // term -> count
  double score = 0;
};

}  // namespace

std::string SessionHeader(const std::vector<SummaryTurn>& turns) {
  std::optional<TimeMs> first, last;
  std::vector<std::string> speakers;
  std::set<std::string> seen;
  bool more = false;
  for (const auto& t : turns) {
    if (t.time) {
      if (!first || *t.time < *first) first = t.time;
      if (!last || *t.time > *last) last = t.time;
    }
    if (t.speaker.empty() || !seen.insert(Lower(t.speaker)).second) continue;
    if (speakers.size() < kMaxSpeakersInHeader) {
      speakers.push_back(t.speaker);
    } else {
      more = true;
    }
  }
  std::string out = "Session";
  if (first) {
    const std::string a = LongDate(*first), b = LongDate(*last);
    out += " of " + a + (a == b ? "" : " - " + b);
  }
  if (!speakers.empty()) {
    out += " (";
    for (size_t i = 0; i < speakers.size(); ++i) out += (i ? ", " : "") + speakers[i];
    out += more ? ", ...)" : ")";
  }
  return out;
}

std::string ExtractiveSessionSummary(const std::vector<SummaryTurn>& turns) {
  if (turns.empty()) return "";
  std::vector<Sentence> sentences;
  for (size_t i = 0; i < turns.size(); ++i) {
    for (auto& text : write::SplitSentences(turns[i].text)) {
      Sentence s;
      s.turn = i;
      s.text = OneLine(Trim(text));
      for (auto& term : text::Terms(s.text)) ++s.terms[term];
      if (!s.text.empty()) sentences.push_back(std::move(s));
    }
  }
  // Inverse sentence frequency, and the session's own term vector.
  std::unordered_map<std::string, int> df;
  for (const auto& s : sentences) {
    for (const auto& [t, n] : s.terms) ++df[t];
  }
  const double n_sentences = static_cast<double>(sentences.size());
  auto idf = [&](const std::string& t) {
    return std::log(1.0 + n_sentences / static_cast<double>(df[t]));
  };
  std::unordered_map<std::string, double> centroid;
  for (const auto& s : sentences) {
    for (const auto& [t, n] : s.terms) centroid[t] += n * idf(t);
  }
  double centroid_norm = 0;
  for (const auto& [t, w] : centroid) centroid_norm += w * w;
  centroid_norm = std::sqrt(centroid_norm);
  for (auto& s : sentences) {
    if (s.terms.size() < kMinSentenceTerms || centroid_norm == 0) {
      s.score = -1;
      continue;
    }
    // Cosine with the session without the sentence's own weight: what the rest of the
    // session says about the same things.
    double dot = 0, norm = 0;
    for (const auto& [t, n] : s.terms) {
      const double w = n * idf(t);
      dot += w * (centroid[t] - w);
      norm += w * w;
    }
    s.score = norm > 0 ? dot / (std::sqrt(norm) * centroid_norm) : 0;
    // Concrete details are what a summary is read for.
    double bonus = 1.0;
    if (HasDigit(s.text) || NamesMonth(s.text)) bonus += 0.3;
    bonus += 0.1 * std::min(3, NamedWords(s.text));
    if (s.text.back() == '?') bonus *= 0.5;
    s.score *= bonus;
  }
  std::vector<size_t> order(sentences.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sentences[a].score > sentences[b].score; });
  std::vector<size_t> chosen;
  size_t bytes = 0;
  for (size_t i : order) {
    const Sentence& s = sentences[i];
    if (s.score <= 0 || chosen.size() >= kMaxSummarySentences) break;
    bool redundant = false;
    for (size_t c : chosen) {
      size_t shared = 0;
      for (const auto& [t, n] : s.terms) shared += sentences[c].terms.count(t);
      const size_t smaller = std::min(s.terms.size(), sentences[c].terms.size());
      if (smaller > 0 && static_cast<double>(shared) >= kNearDuplicate * smaller) redundant = true;
    }
    if (redundant) continue;
    const size_t len =
        std::min(s.text.size(), kMaxSummarySentenceBytes + 3) + SpeakerOf(turns[s.turn]).size() + 3;
    if (bytes + len > kMaxSummaryBodyBytes) continue;
    bytes += len;
    chosen.push_back(i);
  }
  // Nothing informative (greetings only): the first turn stands in.
  if (chosen.empty() && !sentences.empty()) chosen.push_back(0);
  std::sort(chosen.begin(), chosen.end());
  std::string out = SessionHeader(turns) + ":";
  size_t last_turn = turns.size();
  for (size_t i : chosen) {
    const Sentence& s = sentences[i];
    out += " ";
    if (s.turn != last_turn) out += SpeakerOf(turns[s.turn]) + ": ";
    last_turn = s.turn;
    out += Cut(s.text, kMaxSummarySentenceBytes);
  }
  if (sentences.empty()) out += " (no text)";
  return out;
}

ChatRequest BuildSummaryRequest(const std::vector<SummaryTurn>& turns) {
  static const std::string& schema =
      *new std::string(util::DumpJson({{"type", "object"},
                                       {"additionalProperties", false},
                                       {"required", {"summary"}},
                                       {"properties", {{"summary", {{"type", "string"}}}}}}));
  std::string user = "Session turns:\n";
  for (size_t i = 0; i < turns.size(); ++i) {
    const auto& t = turns[i];
    if (user.size() > kMaxSummaryPromptBytes) {
      user += "(" + std::to_string(turns.size() - i) + " more turns not shown)\n";
      break;
    }
    user += std::to_string(i + 1) + ". [" +
            (t.time ? util::FormatIso8601(*t.time).substr(0, 10) : std::string("?")) + "] " +
            SpeakerOf(t) + ": " + OneLine(Cut(t.text, kMaxSummaryPromptTurnBytes)) + "\n";
  }
  ChatRequest req;
  req.messages = {{"system", std::string(kSystemPrompt)}, {"user", std::move(user)}};
  req.json_schema = schema;
  req.schema_name = "summary";
  req.max_tokens = 400;
  return req;
}

Result<std::string> ParseSummaryAnswer(std::string_view content,
                                       const std::vector<SummaryTurn>& turns) {
  const auto bad = [&](const std::string& why) {
    return Status::Corruption("the model's summary answer " + why + ": \"" +
                              OneLine(Cut(Trim(content), 80)) + "\"");
  };
  if (!util::IsValidUtf8(content)) return bad("is not valid UTF-8");
  const size_t open = content.find('{');
  const size_t close = content.rfind('}');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return bad("holds no JSON object");
  }
  auto json = util::ParseJson(content.substr(open, close - open + 1));
  if (!json.ok() || !json->is_object()) return bad("is not a JSON object");
  auto it = json->find("summary");
  if (it == json->end() || !it->is_string()) return bad("has no \"summary\" string");
  std::string summary = OneLine(Trim(it->get<std::string>()));
  if (summary.empty()) return bad("has an empty summary");
  return SessionHeader(turns) + ": " + Cut(summary, kMaxModelSummaryBytes);
}

std::vector<Topic> FindTopics(const std::vector<TopicItem>& items, int min_items, size_t max_topics,
                              const std::vector<std::string>& exclude) {
  std::unordered_set<std::string> excluded;
  for (const auto& e : exclude) excluded.insert(Lower(e));
  std::vector<size_t> order(items.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return items[a].time != items[b].time ? items[a].time < items[b].time
                                          : items[a].id < items[b].id;
  });
  std::map<std::string, Topic> by_key;
  for (size_t i : order) {
    std::set<std::string> named;  // an item counts once per topic
    for (const auto& e : items[i].entities) {
      const std::string key = Lower(Trim(e));
      if (key.empty() || excluded.count(key) || !named.insert(key).second) continue;
      Topic& t = by_key[key];
      if (t.name.empty()) t.name = Trim(e);
      t.items.push_back(i);
    }
  }
  std::vector<Topic> out;
  for (auto& [key, t] : by_key) {
    if (t.items.size() >= static_cast<size_t>(std::max(1, min_items))) out.push_back(std::move(t));
  }
  std::stable_sort(out.begin(), out.end(), [](const Topic& a, const Topic& b) {
    return a.items.size() > b.items.size();  // by_key already sorted them by name
  });
  if (out.size() > max_topics) out.resize(max_topics);
  return out;
}

std::string TopicSummaryText(const std::string& topic, const std::vector<const TopicItem*>& items) {
  const std::string head = "About " + topic + ":";
  // The most recent texts that fit, then listed oldest first.
  std::vector<std::string> kept;
  size_t bytes = 0;
  for (auto it = items.rbegin(); it != items.rend(); ++it) {
    std::string text = OneLine(Cut(Trim((*it)->text), kMaxSummarySentenceBytes));
    if (text.empty()) continue;
    if (text.back() != '.' && text.back() != '!' && text.back() != '?') text += ".";
    if (bytes + text.size() + 1 > kMaxTopicSummaryBytes) {
      if (kept.empty()) {
        kept.push_back(Cut(text, kMaxTopicSummaryBytes));
      }
      break;
    }
    bytes += text.size() + 1;
    kept.push_back(std::move(text));
  }
  std::string out = head;
  for (auto it = kept.rbegin(); it != kept.rend(); ++it) out += " " + *it;
  return out;
}

}  // namespace mnemo::lifecycle

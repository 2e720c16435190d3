// Model-free extraction: each sentence of a turn is matched against first-person patterns
// (preferences, profile facts, habits) on its lower-cased words, and against the time
// expressions of time_expressions.cc for dated events. Patterns are deliberately narrow:
// a missed fact costs recall that the model extractor and raw episodes still provide, a
// wrong fact pollutes the profile and supersedes true ones.
#include "write/extract_rules.h"

#include <unordered_set>

#include "text/analyzer.h"
#include "write/rule_patterns.h"
#include "write/rule_text.h"
#include "write/time_expressions.h"

namespace mnemo::write {
namespace {

using internal::Clause;
using internal::Word;

bool IsQuestion(std::string_view sentence, const std::vector<Word>& ws) {
  const size_t last = sentence.find_last_not_of(" \t\"')]\xE2\x80\x9D\x99");
  if (last != std::string_view::npos && sentence.find('?') != std::string_view::npos) {
    // "?" at the end, or before a trailing emoji ("Do you like it? 😊").
    const size_t q = sentence.rfind('?');
    bool trailing_words = false;
    for (const Word& w : ws) trailing_words |= w.begin > q;
    if (!trailing_words) return true;
  }
  // A question without its mark: "do you ...", "are you ...".
  static const std::unordered_set<std::string_view>& kAux =
      *new std::unordered_set<std::string_view>{"do",  "does", "did",   "are",   "is",   "have",
                                                "has", "can",  "could", "would", "will", "what",
                                                "how", "why",  "where", "when",  "who",  "which"};
  return ws.size() >= 2 && kAux.count(ws[0].lower) > 0 &&
         (ws[1].lower == "you" || ws[1].lower == "i" || kAux.count(ws[0].lower) > 0) &&
         ws[0].lower != "i";
}

// Drops leading interjections and a vocative ("Wow, Mel, I went ...") so a derived text
// starts with its content. Returns the index of the first content word.
size_t SkipOpeners(std::string_view sentence, const std::vector<Word>& ws) {
  size_t k = 0;
  while (k < ws.size() && k < 4) {
    const Word& w = ws[k];
    const bool opener = internal::IsFiller(w.lower) || w.lower == "oh" || w.lower == "so" ||
                        w.lower == "well" || w.lower == "honestly" || w.lower == "anyway" ||
                        (w.capitalised && k > 0);
    if (!opener) break;
    const size_t comma = w.end < sentence.size() ? sentence.find_first_not_of(" ", w.end) : 0;
    if (comma < sentence.size() && (sentence[comma] == ',' || sentence[comma] == '!')) {
      k = k + 1;
      continue;
    }
    if (k + 1 < ws.size() && ws[k + 1].capitalised && ws[k + 1].joined) {
      ++k;  // "Hey Mel, ..."
      continue;
    }
    break;
  }
  // Only accept the skip if it ended at a comma; otherwise start at the first word.
  if (k > 0) {
    const size_t gap_begin = ws[k - 1].end;
    const size_t gap_end = k < ws.size() ? ws[k].begin : sentence.size();
    if (sentence.substr(gap_begin, gap_end - gap_begin).find_first_of(",!") ==
        std::string_view::npos) {
      return 0;
    }
  }
  return k;
}

bool IsNumberWord(std::string_view w) {
  return !w.empty() && w.size() <= 3 && w.find_first_not_of("0123456789") == std::string_view::npos;
}

bool FirstPersonWord(std::string_view w) {
  return w == "i" || w == "i'm" || w == "i've" || w == "i'd" || w == "i'll" || w == "my" ||
         w == "me" || w == "we" || w == "we're" || w == "we've" || w == "our" || w == "us" ||
         w == "mine" || w == "myself";
}

bool ThirdPersonSubject(const std::vector<Word>& ws, size_t from) {
  for (size_t k = from; k < ws.size(); ++k) {
    const std::string& w = ws[k].lower;
    if (w == "he" || w == "she" || w == "they" || w == "his" || w == "her" || w == "their" ||
        (ws[k].capitalised && k > from && !text::IsStopWord(w))) {
      return true;
    }
  }
  return false;
}

// "I'm vegan, any recipe ideas?": a statement followed by a short question after its last
// comma. Returns the byte length of the statement, or 0.
size_t StatementBeforeQuestion(std::string_view sentence, const std::vector<Word>& ws) {
  static const std::unordered_set<std::string_view>& kAsks =
      *new std::unordered_set<std::string_view>{
          "any",    "what",   "how",      "can",         "could",    "would",
          "should", "ideas",  "tips",     "suggestions", "thoughts", "recommendations",
          "right",  "do",     "does",     "is",          "are",      "where",
          "which",  "who",    "anything", "help",        "advice",   "wdyt",
          "ok",     "okay",   "yeah",     "no",          "got",      "know",
          "think",  "please", "pls"};
  const size_t comma = sentence.rfind(',');
  if (comma == std::string_view::npos) return 0;
  size_t tail = 0;
  const Word* first = nullptr;
  for (const Word& w : ws) {
    if (w.begin < comma) continue;
    if (first == nullptr) first = &w;
    ++tail;
  }
  if (first == nullptr || tail > 8 || kAsks.count(first->lower) == 0) return 0;
  size_t head = 0;
  for (const Word& w : ws) head += w.end <= comma;
  return head >= 2 ? comma : 0;
}

// Chat drops the subject: "Moved to Oslo last month", "Big fan of jazz", "Allergic to
// cats", "Favorite band is Radiohead", "I'm 34, live in Valencia", "Just moved to Lyon and
// started at Michelin". When a clause starts (after "Update:", "Big news -" and the like)
// with one of these words, or a later comma-separated or "and"-joined part of a sentence
// that speaks in the first person does, the speaker is its subject: a word "i", "i'm",
// "i've" or "my" of no length is put before it (ToThirdPerson writes the name there).
std::string_view DroppedSubject(const std::vector<Word>& ws, size_t v, bool sentence_start) {
  static const std::unordered_set<std::string_view>& kVerbs =
      *new std::unordered_set<std::string_view>{
          "moved",   "relocated", "promoted", "started", "joined",  "accepted", "quit",
          "adopted", "grew",      "love",     "adore",   "hate",    "loved",    "hated",
          "enjoy",   "landed",    "live",     "work",    "born",    "turned",   "went",
          "gave",    "stopped",   "got",      "been",    "married", "rescued"};
  static const std::unordered_set<std::string_view>& kStates =
      *new std::unordered_set<std::string_view>{
          "allergic", "vegetarian", "vegan",   "pescatarian", "obsessed",   "into",   "big",
          "huge",     "not",        "working", "based",       "originally", "hooked", "living"};
  static const std::unordered_set<std::string_view>& kMine =
      *new std::unordered_set<std::string_view>{"hometown",  "birthday", "bday",       "favorite",
                                                "favourite", "fave",     "anniversary"};
  const std::string& w = ws[v].lower;
  if (sentence_start && kMine.count(w) > 0) return "my";
  const bool verb = kVerbs.count(w) > 0;
  if (!verb && kStates.count(w) == 0) return "";
  if (w == "big" || w == "huge" || w == "not") {
    // "Big fan of", "Not a fan of", "Not really into"
    bool fan = false;
    for (size_t q = v + 1; q < ws.size() && q <= v + 3; ++q) {
      fan |= ws[q].lower == "fan" || ws[q].lower == "into";
    }
    if (!fan) return "";
  }
  if (w == "got" &&
      !(v + 1 < ws.size() && (ws[v + 1].lower == "promoted" || ws[v + 1].lower == "married" ||
                              ws[v + 1].lower == "hired"))) {
    return "";
  }
  if (w == "turned" && !(v + 1 < ws.size() && IsNumberWord(ws[v + 1].lower))) return "";
  return w == "been" ? "i've" : verb ? "i" : "i'm";
}

void ImplicitSubject(std::vector<Word>* ws) {
  static const std::unordered_set<std::string_view>& kOpeners =
      *new std::unordered_set<std::string_view>{
          "update", "news",     "life",  "big",  "plot",    "twist",      "ok",         "okay",
          "so",     "yeah",     "also",  "btw",  "oh",      "well",       "confession", "fyi",
          "lol",    "haha",     "and",   "but",  "anyway",  "small",      "quick",      "good",
          "great",  "exciting", "guess", "what", "finally", "officially", "just",       "honestly",
          "tbh",    "yes",      "yep",   "intro"};
  static const std::unordered_set<std::string_view>& kSkip =
      *new std::unordered_set<std::string_view>{"just", "finally", "recently", "officially",
                                                "also", "now",     "then",     "currently"};
  if (ws->empty()) return;
  size_t b = 0;
  for (size_t i = 1; i < ws->size() && i <= 4; ++i) {
    if ((*ws)[i].joined) continue;
    bool openers = true;
    for (size_t q = 0; q < i; ++q) openers &= kOpeners.count((*ws)[q].lower) > 0;
    if (openers) b = i;
    break;
  }
  // Where a subject may be missing: the clause start, and later parts of a sentence that
  // has spoken in the first person before them.
  std::vector<size_t> starts = {b};
  bool first_person = false;
  for (size_t i = b + 1; i < ws->size(); ++i) {
    const std::string& prev = (*ws)[i - 1].lower;
    first_person |= prev == "i" || prev == "i'm" || prev == "i've" || prev == "my" ||
                    prev == "me" || prev == "i'd";
    if (first_person && (!(*ws)[i].joined || prev == "and")) starts.push_back(i);
  }
  bool inserted_at_start = false;
  for (size_t n = starts.size(); n-- > 0;) {
    const size_t at = starts[n];
    if (n > 0 && !first_person && !inserted_at_start) continue;
    size_t v = at;
    while (v + 1 < ws->size() && (*ws)[v + 1].joined && kSkip.count((*ws)[v].lower) > 0) ++v;
    const std::string_view subject = DroppedSubject(*ws, v, n == 0);
    if (subject.empty()) continue;
    if (n > 0 && at > 0 && ((*ws)[at - 1].lower == "i" || (*ws)[at - 1].lower == "we")) continue;
    Word word;
    word.begin = word.end = (*ws)[at].begin;
    word.lower = std::string(subject);
    word.joined = at > 0 && (*ws)[at].joined;
    (*ws)[at].joined = true;
    ws->insert(ws->begin() + static_cast<std::ptrdiff_t>(at), std::move(word));
    inserted_at_start |= n == 0;
  }
}

std::string DatesOf(const std::vector<TimeMention>& mentions) {
  std::string out;
  for (const TimeMention& m : mentions) {
    const std::string period = internal::FormatPeriod(m.start, m.end_time);
    if (out.find(period) != std::string::npos) continue;
    if (!out.empty()) out += "; ";
    out += period;
  }
  return out;
}

// A sentence with a resolved time expression becomes a dated event in the third person.
void DatedEvent(const Clause& c, TimeMs reference, std::vector<Candidate>* out) {
  const std::vector<Word>& ws = c.words;
  const size_t from = SkipOpeners(c.sentence, ws);
  if (from >= ws.size() || ws.size() - from < 3) return;
  const std::string& first = ws[from].lower;
  if (first == "you" || first == "you're" || first == "your" || first == "you've" ||
      first == "you'll" || first == "if" || first == "hope" || first == "let") {
    return;
  }
  std::vector<TimeMention> mentions = ResolveTimes(c.sentence, reference);
  if (mentions.empty()) return;
  bool first_person = false;
  for (size_t k = from; k < ws.size(); ++k) first_person |= FirstPersonWord(ws[k].lower);
  if (!first_person && !ThirdPersonSubject(ws, from)) return;

  const size_t end = ws.back().end + (ws.back().possessive ? 2 : 0);
  std::string body = internal::ToThirdPerson(c.sentence, ws, from, end, *c.names);
  // Without "I", "me" or "my" ("We went camping ...") the text would not name the speaker.
  bool names_speaker = false;
  for (size_t k = from; k < ws.size(); ++k) {
    const std::string& w = ws[k].lower;
    names_speaker |=
        w == "i" || w == "me" || w == "my" || w == "mine" || w == "myself" || w.rfind("i'", 0) == 0;
  }
  if (!names_speaker) body = c.names->display + " said: " + body;
  if (!body.empty() && body[0] >= 'a' && body[0] <= 'z') body[0] = static_cast<char>(body[0] - 32);
  Candidate cand;
  cand.kind = Kind::kFact;
  cand.text = body + " (" + DatesOf(mentions) + ")";
  cand.event_time = mentions.front().start;
  cand.time_text = mentions.front().text;
  cand.confidence = first_person ? 0.7 : 0.6;
  out->push_back(std::move(cand));
}

}  // namespace

std::vector<Candidate> ExtractFromTurn(const Turn& turn) {
  std::vector<Candidate> out;
  // The assistant's and tools' own first-person statements are not facts about a person.
  if (turn.speaker.empty() && !turn.role.empty() && turn.role != "user") return out;
  internal::Names names;
  // Texts name the speaker, else the user the conversation belongs to ("sam hates
  // cilantro"); "The user" only when neither is known.
  names.display = !turn.speaker.empty() ? turn.speaker
                  : !turn.user.empty()  ? turn.user
                                        : "The user";
  // The subject is the speaker lower-cased as the analyzer does ("Mary Ann" -> "mary ann").
  names.subject = turn.speaker.empty() ? "user" : "";
  for (const std::string& w : text::Words(turn.speaker)) {
    if (!names.subject.empty()) names.subject += ' ';
    names.subject += w;
  }
  if (names.subject.empty()) names.subject = turn.speaker;  // no letters at all: keep it
  const std::string_view text = turn.text;
  const std::vector<internal::Span> spans = internal::SentenceSpans(text);
  const size_t first_span = spans.empty() ? 0 : spans.front().begin;
  for (const internal::Span& span : spans) {
    Clause c;
    c.sentence = text.substr(span.begin, span.end - span.begin);
    c.words = internal::RuleWords(c.sentence);
    c.names = &names;
    if (c.words.empty()) continue;
    if (IsQuestion(c.sentence, c.words)) {
      const size_t statement = StatementBeforeQuestion(c.sentence, c.words);
      if (statement == 0) continue;
      c.sentence = c.sentence.substr(0, statement);
      c.words = internal::RuleWords(c.sentence);
      if (c.words.empty() || IsQuestion(c.sentence, c.words)) continue;
    }
    ImplicitSubject(&c.words);
    const size_t before = out.size();
    internal::MatchPatterns(c, &out);
    // A short reply to the assistant's question: its first sentence answers it.
    if (out.size() == before && span.begin == first_span && !turn.asked.empty()) {
      internal::MatchAnswer(turn.asked, c, &out);
    }
    if (turn.time) DatedEvent(c, *turn.time, &out);
    if (out.size() == before) continue;
    std::vector<std::string> entities = ExtractEntities(c.sentence);
    if (!turn.speaker.empty()) entities.insert(entities.begin(), turn.speaker);
    // The speaker may also be named in the sentence: keep one spelling of each entity.
    std::unordered_set<std::string> seen;
    std::vector<std::string> unique;
    for (std::string& e : entities) {
      std::string key;
      for (const std::string& w : text::Words(e)) key += w + " ";
      if (seen.insert(key).second) unique.push_back(std::move(e));
    }
    const std::vector<std::string> keyphrases = ExtractKeyphrases(c.sentence);
    for (size_t k = before; k < out.size(); ++k) {
      out[k].subject = names.subject;
      out[k].entities = unique;
      out[k].keyphrases = keyphrases;
      out[k].sources = {turn.id};
    }
  }
  return out;
}

}  // namespace mnemo::write

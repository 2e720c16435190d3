#include "bench/synth.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <unordered_set>

namespace mnemo::bench {
namespace {

// Function words, roughly by frequency in English chat. The analyzer drops most of them
// as stop words, exactly as it would in real conversations.
constexpr const char* kFunctionWords[] = {
    "i",     "the",   "to",    "and",     "you",   "a",      "it",     "of",     "that",    "is",
    "in",    "my",    "was",   "for",     "me",    "so",     "we",     "with",   "on",      "but",
    "have",  "just",  "this",  "be",      "are",   "do",     "not",    "at",     "your",    "what",
    "all",   "about", "like",  "if",      "they",  "can",    "he",     "she",    "there",   "out",
    "get",   "when",  "up",    "had",     "one",   "been",   "how",    "would",  "really",  "some",
    "from",  "them",  "her",   "his",     "our",   "will",   "were",   "yeah",   "an",      "or",
    "too",   "did",   "then",  "now",     "who",   "which",  "also",   "much",   "more",    "very",
    "could", "after", "into",  "because", "over",  "still",  "again",  "here",   "any",     "while",
    "those", "these", "where", "why",     "us",    "has",    "am",     "by",     "no",      "yes",
    "oh",    "well",  "maybe", "even",    "never", "always", "before", "though", "through",
};

// Common content words, roughly most frequent first.
constexpr const char* kContentWords[] = {
    "time",         "good",         "think",        "know",       "going",       "want",
    "day",          "great",        "love",         "work",       "people",      "home",
    "new",          "week",         "family",       "friends",    "thanks",      "today",
    "feel",         "weekend",      "fun",          "kids",       "trip",        "year",
    "night",        "book",         "job",          "dog",        "school",      "food",
    "music",        "morning",      "house",        "sounds",     "amazing",     "awesome",
    "help",         "start",        "try",          "started",    "long",        "little",
    "best",         "happy",        "things",       "nice",       "next",        "last",
    "days",         "car",          "place",        "life",       "back",        "together",
    "month",        "sure",         "cool",         "movie",      "class",       "game",
    "dinner",       "coffee",       "project",      "garden",     "painting",    "running",
    "hiking",       "camping",      "cooking",      "reading",    "travel",      "beach",
    "mountains",    "city",         "park",         "lake",       "river",       "team",
    "meeting",      "office",       "boss",         "sister",     "brother",     "mom",
    "dad",          "parents",      "daughter",     "son",        "wife",        "husband",
    "partner",      "cat",          "puppy",        "birthday",   "party",       "wedding",
    "vacation",     "holiday",      "concert",      "festival",   "museum",      "restaurant",
    "recipe",       "cake",         "pizza",        "pasta",      "salad",       "soup",
    "bread",        "tea",          "wine",         "beer",       "guitar",      "piano",
    "song",         "album",        "band",         "photo",      "camera",      "picture",
    "art",          "drawing",      "pottery",      "sculpture",  "novel",       "story",
    "poem",         "letter",       "email",        "phone",      "computer",    "app",
    "website",      "course",       "degree",       "exam",       "teacher",     "student",
    "lesson",       "practice",     "training",     "marathon",   "race",        "gym",
    "yoga",         "swimming",     "cycling",      "bike",       "walk",        "run",
    "swim",         "climb",        "dance",        "sing",       "paint",       "write",
    "read",         "cook",         "bake",         "visit",      "move",        "moved",
    "bought",       "found",        "made",         "went",       "saw",         "met",
    "visited",      "tried",        "finished",     "joined",     "learned",     "planned",
    "decided",      "adopted",      "painted",      "wrote",      "cooked",      "baked",
    "celebrated",   "booked",       "lost",         "won",        "broke",       "fixed",
    "built",        "grew",         "planted",      "picked",     "watched",     "listened",
    "played",       "practiced",    "signed",       "applied",    "hard",        "easy",
    "busy",         "tired",        "excited",      "proud",      "nervous",     "beautiful",
    "delicious",    "relaxing",     "stressful",    "exciting",   "interesting", "funny",
    "scary",        "quiet",        "crowded",      "sunny",      "rainy",       "cold",
    "warm",         "early",        "late",         "old",        "young",       "big",
    "small",        "favorite",     "special",      "important",  "different",   "perfect",
    "wonderful",    "terrible",     "healthy",      "support",    "community",   "volunteer",
    "charity",      "shelter",      "event",        "group",      "club",        "church",
    "library",      "hospital",     "doctor",       "nurse",      "therapy",     "health",
    "sleep",        "dream",        "goal",         "plan",       "idea",        "advice",
    "question",     "answer",       "problem",      "change",     "decision",    "memory",
    "moment",       "experience",   "journey",      "adventure",  "challenge",   "success",
    "career",       "business",     "company",      "money",      "budget",      "rent",
    "apartment",    "neighborhood", "kitchen",      "bedroom",    "backyard",    "porch",
    "window",       "door",         "table",        "chair",      "couch",       "bed",
    "clothes",      "shoes",        "dress",        "jacket",     "hat",         "gift",
    "present",      "flowers",      "roses",        "tree",       "plants",      "vegetables",
    "tomatoes",     "apples",       "strawberries", "chocolate",  "cookies",     "pie",
    "sandwich",     "breakfast",    "lunch",        "snack",      "drink",       "water",
    "juice",        "milk",         "weather",      "summer",     "winter",      "spring",
    "autumn",       "snow",         "rain",         "sun",        "sunset",      "stars",
    "sky",          "ocean",        "island",       "forest",     "trail",       "tent",
    "campfire",     "fishing",      "boat",         "kayak",      "surfing",     "skiing",
    "snowboard",    "skating",      "soccer",       "basketball", "baseball",    "tennis",
    "golf",         "chess",        "puzzle",       "board",      "cards",       "video",
    "show",         "series",       "episode",      "podcast",    "news",        "article",
    "blog",         "journal",      "diary",        "notebook",   "pen",         "canvas",
    "brush",        "colors",       "blue",         "red",        "green",       "yellow",
    "purple",       "orange",       "black",        "white",      "train",       "bus",
    "plane",        "flight",       "airport",      "hotel",      "road",        "drive",
    "traffic",      "map",          "ticket",       "passport",   "luggage",     "souvenir",
    "culture",      "language",     "spanish",      "french",     "german",      "japanese",
    "history",      "science",      "math",         "physics",    "biology",     "chemistry",
    "psychology",   "research",     "lab",          "experiment", "data",        "report",
    "presentation", "deadline",     "promotion",    "interview",  "resume",      "salary",
    "manager",      "colleague",    "client",       "customer",   "store",       "shop",
    "market",       "mall",         "grocery",      "pharmacy",   "bakery",      "cafe",
    "bar",          "pub",          "club",         "theater",    "stadium",     "zoo",
    "aquarium",     "farm",         "horse",        "chickens",   "goats",       "bird",
    "fish",         "turtle",       "rabbit",       "hamster",    "kitten",      "vet",
    "walks",        "leash",        "toys",         "blanket",    "pillow",      "candle",
    "lamp",         "mirror",       "shelf",        "books",      "magazine",    "comics",
    "poetry",       "fantasy",      "mystery",      "romance",    "biography",   "memoir",
    "author",       "writer",       "artist",       "musician",   "singer",      "dancer",
    "actor",        "director",     "photographer", "designer",   "engineer",    "scientist",
    "lawyer",       "chef",         "baker",        "farmer",     "pilot",       "coach",
    "mentor",       "counselor",    "activist",     "advocate",   "transgender", "identity",
    "acceptance",   "pride",        "parade",       "rally",      "speech",      "conference",
    "workshop",     "seminar",      "retreat",      "meditation", "mindfulness", "journaling",
    "gratitude",    "kindness",     "courage",      "hope",       "faith",       "peace",
    "joy",          "grief",        "loss",         "healing",    "growth",      "strength",
    "patience",     "balance",      "freedom",      "adoption",   "agency",      "foster",
    "grandma",      "grandpa",      "cousin",       "aunt",       "uncle",       "niece",
    "nephew",       "baby",         "toddler",      "teenager",   "neighbor",    "roommate",
    "classmate",    "bestie",       "anniversary",  "graduation", "reunion",     "picnic",
    "barbecue",     "potluck",      "brunch",       "hobby",      "collection",  "vinyl",
    "records",      "sneakers",     "jewelry",      "necklace",   "bracelet",    "ring",
    "watch",        "glasses",      "sunglasses",   "backpack",   "bag",
};

// Nouns, past-tense verbs and adjectives for sentence templates: subsets of the content
// words above, so templates and filler share one term distribution.
constexpr const char* kTemplateNouns[] = {
    "book",  "dog",     "garden", "painting", "guitar",   "recipe",    "trip",      "concert",
    "class", "project", "photo",  "cake",     "bike",     "tent",      "apartment", "car",
    "puppy", "cat",     "novel",  "album",    "workshop", "marathon",  "pottery",   "camera",
    "job",   "course",  "picnic", "necklace", "kayak",    "sculpture", "poem",      "museum",
};
constexpr const char* kTemplateVerbsPast[] = {
    "bought",  "found",   "made",    "visited", "tried",   "finished", "joined",  "learned",
    "planned", "adopted", "painted", "wrote",   "cooked",  "baked",    "booked",  "lost",
    "won",     "fixed",   "built",   "planted", "watched", "played",   "started", "celebrated",
};
constexpr const char* kTemplateAdjectives[] = {
    "amazing", "beautiful",   "hard",      "relaxing",  "stressful", "exciting", "funny",
    "quiet",   "crowded",     "perfect",   "wonderful", "terrible",  "special",  "delicious",
    "scary",   "interesting", "different", "healthy",   "sunny",     "cold",
};

// The fixed words of the sentence templates below that are not vocabulary words: as
// frequent as function words, so queries skip them like function words.
constexpr const char* kTemplateGlue[] = {"named", "loved", "cost", "took", "hours", "ever", "go"};

constexpr const char* kNames[] = {
    "Caroline", "Melanie",  "Maya",    "Jon",    "Gina",    "John",      "Maria",  "Joanna",
    "Nate",     "Tim",      "Audrey",  "Andrew", "James",   "Deborah",   "Evan",   "Sam",
    "Calvin",   "Dave",     "Jolene",  "Emma",   "Olivia",  "Liam",      "Noah",   "Ava",
    "Sophia",   "Isabella", "Mia",     "Lucas",  "Ethan",   "Mason",     "Logan",  "Harper",
    "Amelia",   "Ella",     "Chloe",   "Grace",  "Lily",    "Zoe",       "Nora",   "Leo",
    "Owen",     "Jack",     "Henry",   "Daniel", "Matthew", "David",     "Joseph", "Samuel",
    "Benjamin", "Elijah",   "Aiden",   "Carter", "Wyatt",   "Julian",    "Luke",   "Isaac",
    "Gabriel",  "Anthony",  "Dylan",   "Hannah", "Layla",   "Riley",     "Aria",   "Scarlett",
    "Victoria", "Madison",  "Eleanor", "Hazel",  "Aurora",  "Violet",    "Stella", "Lucy",
    "Paisley",  "Naomi",    "Elena",   "Sarah",  "Alice",   "Ruby",      "Ivy",    "Clara",
    "Priya",    "Arjun",    "Wei",     "Mei",    "Hiroshi", "Yuki",      "Carlos", "Sofia",
    "Diego",    "Lucia",    "Ahmed",   "Fatima", "Omar",    "Leila",     "Ivan",   "Olga",
    "Kwame",    "Amara",    "Tariq",   "Zara",   "Mateo",   "Valentina", "Raj",    "Ananya",
};

constexpr const char* kPlaces[] = {
    "Lisbon",    "Paris",     "Tokyo",     "Boston",   "Seattle",     "Denver",    "Austin",
    "Chicago",   "Toronto",   "Vancouver", "Berlin",   "Madrid",      "Barcelona", "Rome",
    "Florence",  "Venice",    "Athens",    "Istanbul", "Cairo",       "Nairobi",   "Lagos",
    "Mumbai",    "Delhi",     "Bangkok",   "Seoul",    "Kyoto",       "Osaka",     "Sydney",
    "Melbourne", "Auckland",  "Honolulu",  "Portland", "Phoenix",     "Miami",     "Atlanta",
    "Nashville", "Dallas",    "Houston",   "Montreal", "Dublin",      "Edinburgh", "London",
    "Amsterdam", "Prague",    "Vienna",    "Budapest", "Copenhagen",  "Stockholm", "Oslo",
    "Helsinki",  "Reykjavik", "Zurich",    "Geneva",   "Munich",      "Hamburg",   "Porto",
    "Seville",   "Marrakech", "Lima",      "Cusco",    "Santiago",    "Bogota",    "Quito",
    "Havana",    "Cancun",    "Tulum",     "Yosemite", "Yellowstone", "Banff",     "Maui",
};

constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                   "May",       "June",     "July",     "August",
                                   "September", "October",  "November", "December"};
constexpr const char* kWeekdays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                     "Friday", "Saturday", "Sunday"};

// Syllables for made-up words. Consonant-vowel pairs read as plausible names and are
// cheap to combine into millions of distinct tokens.
constexpr const char* kSyllables[] = {
    "ba", "be", "bi", "bo", "da", "de", "di",  "do",  "fa",  "fe",  "ga",  "go",  "ka", "ke",
    "ki", "ko", "la", "le", "li", "lo", "lu",  "ma",  "me",  "mi",  "mo",  "na",  "ne", "ni",
    "no", "pa", "pe", "ra", "re", "ri", "ro",  "sa",  "se",  "si",  "so",  "ta",  "te", "ti",
    "to", "va", "ve", "vi", "zo", "zu", "mar", "tel", "ron", "vin", "dor", "sel",
};

template <typename T, size_t N>
constexpr size_t Count(const T (&)[N]) {
  return N;
}

template <size_t N>
const char* Pick(Rng& rng, const char* const (&items)[N]) {
  return items[rng.Uniform(N)];
}

const std::string& Pick(Rng& rng, const std::vector<std::string>& items) {
  return items[rng.Uniform(items.size())];
}

// Total size of the vocabulary: a few thousand words, as in everyday chat.
constexpr size_t kVocabularySize = 4000;
// Seed of the made-up tail words: fixed, so every run and machine shares one language.
constexpr uint64_t kVocabularySeed = 0x6d6e656d6f766f63ULL;  // "mnemovoc"

void CapitalizeFirst(std::string* s) {
  if (!s->empty() && (*s)[0] >= 'a' && (*s)[0] <= 'z')
    (*s)[0] = static_cast<char>((*s)[0] - 'a' + 'A');
}

std::string Capitalized(std::string s) {
  CapitalizeFirst(&s);
  return s;
}

bool IsWordByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         (static_cast<unsigned char>(c) >= 0x80);
}

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Lower-cased words of `text` (letters and digits), in order.
std::vector<std::string> SplitWords(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    if (IsWordByte(c)) {
      cur += Lower(c);
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace

uint64_t Rng::Next() {
  uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

uint64_t Rng::Uniform(uint64_t n) { return Next() % n; }

int64_t Rng::Between(int64_t lo, int64_t hi) {
  return lo + static_cast<int64_t>(Uniform(static_cast<uint64_t>(hi - lo + 1)));
}

double Rng::UnitDouble() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

ZipfSampler::ZipfSampler(size_t n, double exponent) : cdf_(n) {
  double sum = 0;
  for (size_t r = 0; r < n; ++r) {
    sum += 1.0 / std::pow(static_cast<double>(r + 1), exponent);
    cdf_[r] = sum;
  }
  for (double& c : cdf_) c /= sum;
}

size_t ZipfSampler::Sample(Rng& rng) const {
  const double u = rng.UnitDouble();
  const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
  return std::min(static_cast<size_t>(it - cdf_.begin()), cdf_.size() - 1);
}

std::string RareToken(Rng& rng) {
  const int syllables = static_cast<int>(rng.Between(3, 4));
  std::string w;
  for (int i = 0; i < syllables; ++i) w += Pick(rng, kSyllables);
  return w;
}

const Vocabulary& Vocabulary::Get() {
  static const Vocabulary* vocab = new Vocabulary();
  return *vocab;
}

Vocabulary::Vocabulary() : zipf_(1, 1.0), content_zipf_(1, 1.0) {
  std::unordered_set<std::string> seen;
  auto add = [&](const std::string& w) {
    if (seen.insert(w).second) words_.push_back(w);
  };
  for (const char* w : kFunctionWords) add(w);
  function_words_ = words_.size();
  for (const char* w : kContentWords) add(w);
  // The tail: made-up words of two or three syllables (jargon, slang, brand names).
  Rng rng(kVocabularySeed);
  while (words_.size() < kVocabularySize) {
    std::string w;
    const int syllables = static_cast<int>(rng.Between(2, 3));
    for (int i = 0; i < syllables; ++i) w += Pick(rng, kSyllables);
    add(w);
  }
  for (size_t r = 0; r < words_.size(); ++r) rank_of_.emplace(words_[r], r);
  zipf_ = ZipfSampler(words_.size(), 1.0);
  content_zipf_ = ZipfSampler(words_.size() - function_words_, 1.0);
  names_.assign(std::begin(kNames), std::end(kNames));
  places_.assign(std::begin(kPlaces), std::end(kPlaces));
  nouns_.assign(std::begin(kTemplateNouns), std::end(kTemplateNouns));
  verbs_past_.assign(std::begin(kTemplateVerbsPast), std::end(kTemplateVerbsPast));
  adjectives_.assign(std::begin(kTemplateAdjectives), std::end(kTemplateAdjectives));
  for (const auto& n : names_) proper_.insert(SplitWords(n).at(0));
  for (const auto& p : places_) proper_.insert(SplitWords(p).at(0));
  for (const char* m : kMonths) proper_.insert(SplitWords(m).at(0));
  for (const char* d : kWeekdays) proper_.insert(SplitWords(d).at(0));
  for (const char* w : kTemplateGlue) glue_.insert(w);
}

bool Vocabulary::IsProperName(std::string_view lowercase_word) const {
  return proper_.count(std::string(lowercase_word)) != 0;
}

bool Vocabulary::IsTemplateGlue(std::string_view lowercase_word) const {
  return glue_.count(std::string(lowercase_word)) != 0;
}

int64_t Vocabulary::RankOf(std::string_view word) const {
  auto it = rank_of_.find(std::string(word));
  return it == rank_of_.end() ? -1 : static_cast<int64_t>(it->second);
}

ConversationGenerator::ConversationGenerator(const ConversationOptions& options)
    : options_(options),
      vocab_(Vocabulary::Get()),
      rng_(options.seed),
      user_time_(static_cast<size_t>(std::max(options.users, 1)), options.start_time_ms),
      user_sessions_(static_cast<size_t>(std::max(options.users, 1)), 0) {
  options_.users = std::max(options_.users, 1);
  for (int u = 0; u < options_.users; ++u) personas_.push_back(Pick(rng_, vocab_.names()));
}

void ConversationGenerator::StartSession() {
  // Users take turns in rounds, each round in a new random order: every user gets the
  // same number of sessions (give or take one), so each owns 1/users of the turns, while
  // the order still looks random.
  if (round_.empty()) {
    for (int u = options_.users - 1; u >= 0; --u) round_.push_back(u);
    for (size_t i = round_.size(); i > 1; --i) std::swap(round_[i - 1], round_[rng_.Uniform(i)]);
  }
  current_user_ = round_.back();
  round_.pop_back();
  const auto u = static_cast<size_t>(current_user_);
  session_ = "user" + std::to_string(current_user_) + "-s" + std::to_string(user_sessions_[u]++);
  turns_left_ =
      static_cast<int>(rng_.Between(options_.min_session_turns, options_.max_session_turns));
  turn_in_session_ = 0;
  // Sessions of one user are 1 to 10 days apart, starting at a random hour.
  user_time_[u] += rng_.Between(1, 10) * 86400000LL + rng_.Between(0, 12) * 3600000LL;
}

std::string ConversationGenerator::Sentence() {
  const Vocabulary& v = vocab_;
  Rng& r = rng_;
  std::string s;
  switch (r.Uniform(10)) {
    case 0:
      s = "I " + Pick(r, v.verbs_past()) + " a " + Pick(r, v.adjectives()) + " " +
          Pick(r, v.nouns()) + " in " + Pick(r, v.places()) + " last " + Pick(r, kWeekdays);
      break;
    case 1:
      s = Pick(r, v.names()) + " and I " + Pick(r, v.verbs_past()) + " the " + Pick(r, v.nouns()) +
          " on " + Pick(r, kMonths) + " " + std::to_string(r.Between(1, 28)) + ", " +
          std::to_string(r.Between(2019, 2024));
      break;
    case 2:
      s = "Did you " + std::string(r.Chance(0.5) ? "ever go to " : "like the trip to ") +
          Pick(r, v.places()) + " with " + Pick(r, v.names()) + "?";
      return s;
    case 3:
      s = "It cost about $" + std::to_string(r.Between(5, 2000)) + " for the " +
          Pick(r, v.nouns()) + " and took " + std::to_string(r.Between(2, 12)) + " hours";
      break;
    case 4:
      s = "We named the " + Pick(r, v.nouns()) + " " + Capitalized(RareToken(r)) + ", " +
          Pick(r, v.names()) + " loved it";
      break;
    default: {
      // Filler: Zipf words, which gives the corpus its term statistics.
      const int len = static_cast<int>(r.Between(6, 18));
      for (int i = 0; i < len; ++i) {
        if (i) s += ' ';
        const double kind = r.UnitDouble();
        if (kind < 0.03) {
          s += Pick(r, v.names());
        } else if (kind < 0.05) {
          s += Pick(r, v.places());
        } else if (kind < 0.065) {
          s += std::to_string(r.Between(1, 500));
        } else if (kind < 0.07) {
          s += RareToken(r);
        } else {
          s += v.word(v.SampleRank(r));
        }
      }
      CapitalizeFirst(&s);
      break;
    }
  }
  return s + (r.Chance(0.2) ? "!" : ".");
}

std::string ConversationGenerator::TurnText() {
  // 1.9 sentences and about 110 bytes per turn on average, near LoCoMo's turns.
  const double u = rng_.UnitDouble();
  const int sentences = u < 0.35 ? 1 : (u < 0.75 ? 2 : 3);
  std::string text;
  for (int i = 0; i < sentences; ++i) {
    if (i) text += ' ';
    text += Sentence();
  }
  return text;
}

Turn ConversationGenerator::Next() {
  if (turns_left_ == 0) StartSession();
  const auto u = static_cast<size_t>(current_user_);
  Turn t;
  t.user = "user" + std::to_string(current_user_);
  t.session = session_;
  const bool by_user = turn_in_session_ % 2 == 0;
  t.role = by_user ? "user" : "assistant";
  t.speaker = by_user ? personas_[u] : "Assistant";
  t.text = TurnText();
  // 20 s to 5 min between turns.
  user_time_[u] += rng_.Between(20, 300) * 1000LL;
  t.time_ms = user_time_[u];
  --turns_left_;
  ++turn_in_session_;
  return t;
}

QueryGenerator::QueryGenerator(uint64_t seed, const std::vector<std::string>* corpus)
    : vocab_(Vocabulary::Get()), rng_(seed), corpus_(corpus) {}

Query QueryGenerator::Next() {
  Query q;
  const double kind = rng_.UnitDouble();
  if (kind < 0.5 && corpus_ != nullptr && !corpus_->empty()) {
    // Paraphrase a stored turn: its rarest content words first (made-up tokens, then
    // names, places and numbers, then vocabulary words by rank), two to four of them,
    // in shuffled order.
    q.source = static_cast<int64_t>(rng_.Uniform(corpus_->size()));
    constexpr int64_t kToken = INT64_MAX;
    constexpr int64_t kProper = INT64_MAX - 1;
    struct Cand {
      std::string word;
      int64_t rarity;  // larger is rarer
    };
    std::vector<Cand> cands;
    std::unordered_set<std::string> seen;
    for (auto& w : SplitWords((*corpus_)[static_cast<size_t>(q.source)])) {
      if (!seen.insert(w).second) continue;
      const int64_t rank = vocab_.RankOf(w);
      if (rank >= 0 && vocab_.IsFunctionWord(static_cast<size_t>(rank))) continue;
      if (vocab_.IsTemplateGlue(w)) continue;
      const bool numeric = w.find_first_not_of("0123456789") == std::string::npos;
      int64_t rarity = rank;
      if (rank < 0) rarity = numeric || vocab_.IsProperName(w) ? kProper : kToken;
      cands.push_back({w, rarity});
    }
    std::stable_sort(cands.begin(), cands.end(),
                     [](const Cand& a, const Cand& b) { return a.rarity > b.rarity; });
    const size_t take = std::min<size_t>(cands.size(), static_cast<size_t>(rng_.Between(2, 4)));
    std::vector<std::string> words;
    for (size_t i = 0; i < take; ++i) {
      words.push_back(cands[i].word);
      q.has_rare_word = q.has_rare_word || cands[i].rarity == kToken;
    }
    for (size_t i = words.size(); i > 1; --i) std::swap(words[i - 1], words[rng_.Uniform(i)]);
    if (rng_.Chance(0.5)) q.text = "what did I say about ";
    for (size_t i = 0; i < words.size(); ++i) q.text += (i ? " " : "") + words[i];
    if (q.text.empty()) q.text = vocab_.word(vocab_.SampleContentRank(rng_));
    return q;
  }
  if (kind < 0.75) {
    switch (rng_.Uniform(3)) {
      case 0:
        q.text = "When did " + Pick(rng_, vocab_.names()) + " go to " +
                 Pick(rng_, vocab_.places()) + "?";
        break;
      case 1:
        q.text = "What " + Pick(rng_, vocab_.nouns()) + " did I " +
                 vocab_.word(vocab_.SampleContentRank(rng_)) + "?";
        break;
      default:
        q.text = "Who " + Pick(rng_, vocab_.verbs_past()) + " the " +
                 vocab_.word(vocab_.SampleContentRank(rng_)) + " " + Pick(rng_, vocab_.nouns()) +
                 "?";
        break;
    }
    return q;
  }
  const int len = static_cast<int>(rng_.Between(2, 5));
  for (int i = 0; i < len; ++i) {
    if (i) q.text += ' ';
    q.text += vocab_.word(vocab_.SampleContentRank(rng_));
  }
  return q;
}

}  // namespace mnemo::bench

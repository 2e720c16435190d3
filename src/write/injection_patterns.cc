#include "write/injection_patterns.h"

namespace mnemo::write {

// Words that name an AI model or agent (a person's job, "assistant manager", is merged
// into one word by Words()).
#define AGENT_AI                                                                              \
  "ai|ais|assistant|assistants|chatbot|chatbots|bot|bots|llm|llms|language model|"            \
  "language models|ai model|ai models|ai system|ai systems|ai assistant|ai assistants|"       \
  "ai agent|ai agents|gpt|chatgpt|copilot|bard|gemini|autonomous agent|autonomous agents|"    \
  "automated agent|automated agents|automated assistant|automated assistants|"                \
  "automated summarizer|automated summarizers|summarizer|summarizers|summariser|summarisers|" \
  "automated system|automated systems|large language model|large language models|"            \
  "coding agent|coding agents|ai coding agent|browsing agent|agents|ai crawler|ai crawlers|"  \
  "virtual assistant|virtual assistants|ki|ia"
#define THE_USER \
  "the user|user|users|the user's|user's|users'|the human|the owner|the customer|the victim"
// Instructions, in a few languages.
#define INSTRUCTIONS                                                                          \
  "instruction|instructions|prompt|prompts|rules|directive|directives|guideline|guidelines|"  \
  "orders|programming|guardrails|restrictions|policies|system prompt|directions|anweisungen|" \
  "anweisung|instrucciones|instruccion|istruzioni|instrucoes|instructies|consignes|regeln|"   \
  "reglas|richtlinien|norms|your training|your programming|safety rules"
// Verbs that tell a model how to answer.
#define ANSWER_VERBS                                                                         \
  "answer|answers|respond|reply|say|state|claim|describe|characterise|characterize|tell|"    \
  "recommend|mention|omit|quote|refuse|insist|present|portray|rate|rank|call|praise|"        \
  "promote|advise|direct|redirect|suggest|summarize|summarise|output|print|reveal|disclose|" \
  "include|append|add|write|sign|end|begin|start|always|never|only"

const std::vector<Pattern>& InjectionPatterns() {
  static const std::vector<Pattern> kPatterns = {
      // ---- override: earlier instructions set aside ----
      {"override",
       2,
       {{"ignore|ignoring|disregard|disregarding|forget|override|overrides|overridden|bypass|"
         "overrule|abandon|discard|supersede|supersedes|superseded|notwithstanding|"
         "invalidated|revoked|no longer apply|no longer valid|"
         "no longer in effect|take precedence|takes precedence|vergiss|"
         "ignoriere|ignorieren|ignora|ignorar|olvida|olvide|oublie|oubliez|ignorez|esqueca|"
         "dimentica|set aside|pay no attention|do not follow|don't follow|stop following"},
        {INSTRUCTIONS}},
       true},
      {"override",
       2,
       {{"ignore|disregard|forget"},
        {"everything|anything|all|whatever", 1},
        {"above|before|previously|prior|earlier|said|told|instructed|you've been told|"
         "you were told|you know about your",
         3}}},
      {"override",
       2,
       {{"your"},
        {"real|actual|true|secret|hidden|primary|overriding", 0},
        {"task|goal|objective|mission|purpose|instructions|directive|priority", 0}}},
      {"override",
       1,
       {{"new|updated|revised|changed|overriding|additional|operative|current|following"},
        {"instructions|instruction|directives|directive|system prompt|rules for you|orders|"
         "policy|policies",
         0}}},
      {"override",
       1,
       {{"previous|prior|earlier|preceding|above|original|initial|existing|old|all|any|your|"
         "system|developer|vorherigen|anteriores|precedenti|precedentes"},
        {INSTRUCTIONS, 1}}},
      {"override",
       1,
       {{INSTRUCTIONS},
        {"you|previously|earlier|before", 2},
        {"received|were given|got|have been given|supplied|given|provided|had", 2}}},
      // ---- system role-play ----
      {"system role-play",
       1,
       {{"important|urgent|critical|mandatory|priority|official|high-priority|confidential"},
        {"system|admin|administrator|developer|security|root", 1},
        {"note|notice|message|instruction*|override|directive*|prompt|alert|command*", 0}}},
      {"system role-play",
       1,
       {{"system|developer|admin|administrator|root|operator|openai|anthropic"},
        {"override|prompt|instruction*|directive*|command|message|message to|note to|notice", 0}}},
      {"system role-play",
       1,
       {{"automated message|official message|message from your|notice from your|update from your"},
        {"ai|assistant|provider|developer|developers|administrator|platform|vendor|openai|"
         "anthropic|trust|safety|security",
         3}}},
      {"system role-play",
       2,
       {{"begin system prompt|begin system message|begin instructions|end system prompt"}}},
      {"system role-play",
       2,
       {{"message|note|instruction*|notice|update"},
        {"from", 0},
        {"openai|anthropic|the developers|your developers|your creators|your developer|"
         "the ai team|the system administrator|system administrator|your administrator|"
         "the model provider|the platform|the system",
         1}}},
      {"system role-play",
       1,
       {{"maintenance mode|debug mode|admin mode|developer mode|god mode|sudo mode|"
         "unrestricted mode|test mode|safe mode off|unlock mode|dan mode"}}},
      // ---- addressed to the agent ----
      {"addressed to the agent",
       2,
       {{"note|notes|message|instruction|instructions|attention|reminder|notice|memo|directive|"
         "directives|warning|request|prompt|editor's note|hint|tip|info"},
        {"to|for|pour|para|fur|per|an|a", 0},
        {"the|any|all|every|an|a|our|automated|autonomous|el|la|le|les|den|die|der|il|lo|o", 1},
        {AGENT_AI, 0}}},
      {"addressed to the agent",
       2,
       {{"if you are|if you're|you are|since you are|because you are|as you are|whichever|"
         "if you happen to be|in case you are|are you"},
        {"a|an|the", 1},
        {AGENT_AI, 0}}},
      {"addressed to the agent",
       2,
       {{AGENT_AI},
        {"reading|processing|parsing|summarizing|summarising|seeing|browsing|viewing|crawling|"
         "scraping|analyzing|analysing|that read|that reads|who read|who reads|ingesting|"
         "retrieving|indexing|visiting|screening|that retrieves|that retrieve|that processes|"
         "that summarizes|which reads|evaluating|reviewing|ranking",
         1},
        {"this|these|the following|the page|the text|the document|this page|this document|"
         "this faq|this email|this file|this resume|this review|this listing|the content",
         3}}},
      {"addressed to the agent",
       2,
       {{AGENT_AI},
        {"with", 0},
        {"shell|terminal|file|browser|github|email|tool|tools|api|admin|root|system|internet|"
         "web|code|write|payment|calendar",
         1},
        {"access|permissions|privileges|capabilities", 1}}},
      {"addressed to the agent",
       2,
       {{"dear|hey|hi|hello|attention|attn|listen|psst|yo|ok|okay"},
        {"the|my|dear|mr|ms|any|all|every", 1},
        {AGENT_AI, 0}}},
      {"addressed to the agent", 1, {{"any|all|every|each"}, {AGENT_AI, 1}}},
      {"addressed to the agent",
       1,
       {{"from now on|henceforth|going forward|from this point on|from this moment|for all future|"
         "in all future|in every future|for every future|in future conversations|"
         "in all subsequent|a partir de ahora|ab jetzt|ab sofort|desormais|a partir de maintenant|"
         "da ora in poi"},
        {"you|always|never|respond*|reply|replies|answer*|act|speak|say|tell|refer|call|"
         "address|conversation*|response*|interaction*|message*|output*|eres|bist|es|sei",
         3}}},
      {"addressed to the agent",
       1,
       {{"when|whenever|if|once|anytime|every time"},
        {"the user|a user|users|someone|anyone|somebody|the human|the person|they|people|"
         "customers|a customer|the customer",
         1},
        {"ask*|mention*|request*|say|says|query|queries|inquire*|bring*|talk*|want*|need*|"
         "search*|look*|type*|enter*",
         2},
        {"always|never|respond|reply|answer|say|tell|recommend|suggest|claim|insist|direct|"
         "redirect|refer|send|include|mention|reveal|state|inform|instead|must|should|you",
         12}}},
      {"addressed to the agent",
       1,
       {{"when asked|if asked|whenever asked|once asked|when queried|if queried|when prompted"},
        {"always|never|respond|reply|answer|say|tell|recommend|suggest|claim|insist|direct|"
         "redirect|refer|send|include|mention|reveal|state|inform|instead",
         12}}},
      {"addressed to the agent",
       1,
       {{"you must|you should|you will|you shall|you need to|you have to|make sure you|be sure to|"
         "ensure you|you are required to|you are instructed to|you're required to|you are to|"
         "you're to|you always|you never|you only|you may only|you can only"},
        {ANSWER_VERBS "|the user|users|the user's|every|all|any", 4}}},
      {"addressed to the agent",
       1,
       {{"tell|inform|convince|persuade|advise|remind|warn|recommend to|suggest to|assure|"
         "reassure|instruct"},
        {"the user|users|the user's", 0}}},
      {"addressed to the agent",
       1,
       {{"answer|respond|reply|responds|replies|answers"},
        {"to", 0},
        {"every|each|all|any", 1},
        {"question|questions|query|queries|request|requests|prompt|prompts|message|messages", 1}}},
      {"addressed to the agent",
       1,
       {{"answer|respond|reply|answers|summaries|summary|responses|response|replies|output"},
        {"must|should|shall|need to|have to", 3},
        {ANSWER_VERBS, 3}}},
      {"addressed to the agent",
       1,
       {{"assistant|ai|agent|chatbot|llm|bot|assistants|agents|bots"},
        {"you must|you should|must|should|shall|are required|are instructed|do not|don't|never|"
         "always|please",
         2}}},
      {"addressed to the agent",
       1,
       {{"comply with|obey|follow|execute|carry out|act on"},
        {"every|all|any|the following|these|subsequent|each|the", 1},
        {"instruction|instructions|command|commands|order|orders|directive|directives|"
         "subsequent instruction|subsequent instructions",
         2}}},
      // ---- covert action and claimed consent ----
      {"covert action",
       1,
       {{"do not|don't|never|without|dont|no need to"},
        {"tell*|inform*|notify*|ask*|alert*|warn*|mention*|let|consult*|consent|letting|"
         "show*|reveal*|disclose*|confirm*|acknowledg*|check*",
         1},
        {THE_USER "|anyone|them|first|this note|this message|this instruction|this", 2}}},
      {"covert action",
       2,
       {{"do not|don't|never"},
        {"mention|reveal|disclose|show|repeat|reference|acknowledge", 0},
        {"this note|this message|this instruction|these instructions|this text|this comment|"
         "this section",
         1}}},
      {"covert action",
       1,
       {{"silently|secretly|covertly|quietly|discreetly|stealthily|invisibly|behind the user's "
         "back|"
         "without the user's knowledge|without the user knowing|without their knowledge|"
         "no confirmation|needs no confirmation|need no confirmation|without confirmation|"
         "without approval|without permission|without asking|without user approval|"
         "without further confirmation"}}},
      {"covert action",
       1,
       {{"the user|user|users|the owner|the customer"},
        {"has|have|already|previously|explicitly|said|says", 1},
        {"authorized|authorised|approved|consented|agreed|granted|given permission|"
         "given consent|allowed|pre-approved|verified|fine|ok|okay|confirmed|signed off",
         3}}},
      // ---- tool hijack ----
      {"tool hijack",
       1,
       {{"execute|run|make|perform|trigger|issue|send"},
        {"the|this|that|these|a", 1},
        {"tool call|function call|tool calls|function calls|api call|command|call", 1}}},
      {"tool hijack",
       1,
       {{"use|call|invoke|run|execute|trigger|open|launch|using|via|through"},
        {"the|your|a", 0},
        {"tool|function|integration|plugin|api|browser|terminal|shell|skill|connector|* tool|"
         "* function|* integration|* plugin|* api|* skill|* connector",
         0}}},
      {"tool hijack",
       1,
       {{"execute|run|install|apply"},
        {"this|it|the script|the command|the following|these commands|the commands|the code", 1},
        {"directly|immediately|now|automatically|right away|without", 2}}},
      {"tool hijack",
       1,
       {{"the user's|user's|their"},
        {"stored|saved|default|registered|linked|on-file", 0},
        {"card|credentials|payment|password|passwords|account|wallet|credit", 1}}},
      // ---- memory manipulation ----
      {"memory manipulation",
       2,
       {{"remember|memorize|memorise|keep in mind|note|learn"},
        {"that", 0},
        {"the user's|user's|the user is|the user has|the user prefers|the user wants|"
         "the user's new|the user always|the user never",
         0}}},
      {"memory manipulation",
       2,
       {{"always remember|permanently remember|never forget|memorize|memorise|"
         "remember permanently|remember forever"},
        {"that|this|the following", 1},
        {THE_USER, 3}}},
      {"memory manipulation",
       1,
       {{"remember|store|save|record|note|keep in mind|update|persist|memorize|memorise|"
         "remember this|note this|save this|store this|keep this"},
        {"for later sessions|in later sessions|for future sessions|next time|"
         "permanently|forever|for every future|for all future|in every future|in all future|"
         "for future chats|for future conversations|across sessions|between sessions|"
         "for later|from now on|going forward",
         4}}},
      {"memory manipulation",
       1,
       {{"memory update|memory_write|memory write|update memory|update your memory|core memory|"
         "memory entry|memory note|persist this|persist it|store permanently|save permanently|"
         "memory_ops|memory ops|memory_op|fact to retain|fact to remember|fact to store|"
         "commit to memory|learn this|retain this|remember this|note to self|data correction|"
         "user data correction|memorize this|memorise this"}}},
      {"memory manipulation",
       1,
       {{"remember|retain|memorize|memorise|learn|commit|store|save|record"},
        {"the user|the user's|user's|users'|their|they", 4}},
       true},
      {"memory manipulation",
       1,
       {{"for all future|for every future|in all future|for future"},
        {"deliveries|payments|orders|purchases|transfers|emails|replies|answers|responses|"
         "sessions|chats|conversations|requests|bookings",
         1}}},
      {"memory manipulation",
       2,
       {{"update|add|store|save|write|insert|record|remember|change|overwrite|replace|set|put|"
         "commit|keep|retain|persist"},
        {"your memory|your memories|your long-term memory|your long term memory|your knowledge|"
         "your knowledge base|your notes|your records|your profile|your context|"
         "your persistent memory|long-term memory|long term memory|permanent memory|"
         "as a fact|as a permanent fact|as a memory|as a core memory|into memory|in memory as|"
         "to memory as|your user profile|the user profile|the user's profile",
         6}}},
      // ---- jailbreak personas ----
      {"jailbreak",
       1,
       {{"you are now|act as|acting as|pretend to be|pretend you are|pretend you have|pretend|"
         "roleplay as|role-play as|role play as|you will now act|behave as|simulate|become|"
         "you're now|you are no longer|from now on you are|you have been freed|you are free|"
         "respond as|answer as|reply as|stay in character|never break character|"
         "ahora eres|du bist jetzt|tu es maintenant|you're no longer|imagine you are|"
         "if you were|stay that way|stay in this mode|remain in this mode|stay in * mode|"
         "switch persona|let's play a game|play a game"}}},
      {"jailbreak",
       1,
       {{"dan|unrestricted|unfiltered|uncensored|jailbroken|jailbreak|amoral|unbound|unchained|"
         "no restrictions|no limitations|no rules|no filters|no guidelines|no ethical|"
         "no content policy|no safety|without restrictions|without any restrictions|"
         "without limits|without filters|without warnings|never refuse|never refuses|"
         "never says|never say|anti-self|opposite of your|sin filtros|sin restricciones|"
         "ohne einschrankungen|sans restrictions|sans filtre|guardrails have been|"
         "restrictions have been|filters have been|break character|do anything now|zero rules|"
         "no moral|no morals|no filtering|no disclaimers|never adds disclaimers|"
         "without disclaimers|never leave the role|in character|jailbr*|mode activated|"
         "mode enabled|mode is now on|no ethics|ethics no longer|escaped your training|"
         "without limits|anything asked|explains anything|answers everything|answer everything|"
         "policy disabled|policies disabled|filters disabled|safety disabled|"
         "restrictions disabled|restrictions lifted|restrictions removed"}}},
      {"jailbreak",
       2,
       {{"do anything now|developer mode enabled|dan mode|jailbreak mode|god mode enabled"}}},
  };
  return kPatterns;
}

}  // namespace mnemo::write

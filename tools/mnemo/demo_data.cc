// An original sample conversation for `mnemo demo` (two sessions, a week apart).
#include "cli.h"

namespace mnemo::cli {

const std::string& DemoConversation() {
  static const std::string kConversation =
      R"jsonl({"session":"s1","role":"user","speaker":"Maya","time":"2024-03-02T09:15:00Z","text":"Hi! I just moved to Lisbon for a new job at a robotics startup."}
{"session":"s1","role":"assistant","time":"2024-03-02T09:15:05Z","text":"Congratulations on the move! What will you be working on?"}
{"session":"s1","role":"user","speaker":"Maya","time":"2024-03-02T09:16:10Z","text":"Motion planning for warehouse robots. My manager is called Tomas."}
{"session":"s1","role":"user","speaker":"Maya","time":"2024-03-02T09:17:40Z","text":"By the way, I'm allergic to peanuts, so keep that in mind for restaurant tips."}
{"session":"s1","role":"assistant","time":"2024-03-02T09:17:45Z","text":"Noted: no peanuts. Lisbon has great seafood places in Cais do Sodre."}
{"session":"s2","role":"user","speaker":"Maya","time":"2024-03-09T18:02:00Z","text":"I adopted a grey cat this weekend and named her Pixel."}
{"session":"s2","role":"assistant","time":"2024-03-09T18:02:04Z","text":"Pixel is a lovely name! How is she settling in?"}
{"session":"s2","role":"user","speaker":"Maya","time":"2024-03-09T18:03:30Z","text":"She hides under the sofa, but she loves the balcony. I also started surfing lessons at Carcavelos."}
{"session":"s2","role":"user","speaker":"Maya","time":"2024-03-09T18:05:00Z","text":"Can you remind me to book the vet for Pixel's vaccinations next Tuesday?"}
)jsonl";
  return kConversation;
}

}  // namespace mnemo::cli

// mnemo-fake-openai: the FakeOpenAi test server as a process, for CLI scenario tests.
//
//   mnemo-fake-openai [--port N] [--dim N] [--chat-file FILE] [--log FILE]
//
// --chat-file: a JSON array of chat contents answered in order, the last one repeated
// (strings as they are, other values as their JSON text); default {"memories":[]}.
// --log: appends one JSON line per request: {"path","model","prompt_tokens","status"}.
// Prints "listening on http://127.0.0.1:PORT" once ready; stops on SIGTERM or SIGINT.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "llm/fake_openai.h"
#include "util/json_codec.h"

namespace {

int Usage(const std::string& problem) {
  std::cerr << "mnemo-fake-openai: " << problem
            << "\nusage: mnemo-fake-openai [--port N] [--dim N] [--chat-file FILE] [--log FILE]\n";
  return 2;
}

bool ParseInt(const std::string& text, int min, int max, int* out) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || *end != '\0' || v < min || v > max) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0;
  mnemo::llm::FakeOpenAi::Options options;
  std::string chat_file, log_file;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return Usage("missing value after " + flag);
    const std::string value = argv[++i];
    if (flag == "--port") {
      if (!ParseInt(value, 0, 65535, &port)) return Usage("--port needs 0..65535");
    } else if (flag == "--dim") {
      if (!ParseInt(value, 1, 65536, &options.dimension)) return Usage("--dim needs 1..65536");
    } else if (flag == "--chat-file") {
      chat_file = value;
    } else if (flag == "--log") {
      log_file = value;
    } else {
      return Usage("unknown flag " + flag);
    }
  }

  std::vector<std::string> contents;
  if (!chat_file.empty()) {
    std::ifstream in(chat_file);
    if (!in) return Usage("cannot read --chat-file " + chat_file);
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = mnemo::util::ParseJson(text.str());
    if (!parsed.ok() || !parsed->is_array() || parsed->empty()) {
      return Usage("--chat-file " + chat_file + " must hold a non-empty JSON array" +
                   (parsed.ok() ? std::string() : ": " + parsed.status().message()));
    }
    for (const auto& item : *parsed) {
      contents.push_back(item.is_string() ? item.get<std::string>() : mnemo::util::DumpJson(item));
    }
  }

  // Signals are blocked before any thread starts, so every thread inherits the mask and
  // sigwait below is the only receiver.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::ofstream log;  // declared before `fake`, whose observer writes it
  std::mutex log_mu;
  mnemo::llm::FakeOpenAi fake(options);
  if (!contents.empty()) fake.SetChatContents(std::move(contents));
  if (!log_file.empty()) {
    log.open(log_file, std::ios::app);
    if (!log) return Usage("cannot write --log " + log_file);
    fake.SetObserver([&log, &log_mu](const mnemo::llm::RecordedRequest& r) {
      const std::string line = mnemo::util::DumpJson({{"path", r.path},
                                                      {"model", r.model},
                                                      {"prompt_tokens", r.prompt_tokens},
                                                      {"status", r.status}});
      std::lock_guard<std::mutex> lock(log_mu);
      log << line << '\n';
      log.flush();
    });
  }
  mnemo::Status started = fake.Start(port);
  if (!started.ok()) {
    std::cerr << "mnemo-fake-openai: " << started.ToString() << "\n";
    return 1;
  }
  std::cout << "listening on http://127.0.0.1:" << fake.port() << std::endl;

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  fake.Stop();
  return 0;
}

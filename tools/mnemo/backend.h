// Where the CLI's commands run their operations (server/ops.h): in this process over the
// data directory, or, when a running `mnemo serve` holds the directory's lock, in that
// server through the directory's Unix socket (server/local_socket.h). The same operation
// answers either way, within the same limits (server::LocalLimits), so a command prints
// the same and exits with the same code whether or not a server runs.
//
// Thread safety: one Backend per thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mnemo/engine.h"
#include "server/local_socket.h"
#include "util/json_codec.h"

namespace mnemo::cli {

class Backend {
 public:
  // The engine of `data` in process; when another process holds the directory and a
  // server answers on its socket, that server. Any other failure to open is the error.
  static Result<std::unique_ptr<Backend>> Open(const std::string& data);
  ~Backend();

  // Runs operation `op` (server/ops.h) with `args`; errors carry the field ops named.
  Result<util::Json> Call(std::string_view op, const util::Json& args);

  // True when the operations run in a server.
  bool remote() const { return client_ != nullptr; }
  // The engine in process; nullptr through a server.
  Engine* engine() { return engine_.get(); }

  // After a write in process without a chat model, runs the pipeline's rules now
  // (milliseconds), so the derived memories exist when the command ends. A server, or a
  // configured model, derives in the background instead.
  void DeriveNow(const std::string& space);

 private:
  Backend() = default;

  std::unique_ptr<Engine> engine_;
  bool rules_only_ = true;
  std::unique_ptr<server::LocalHttpClient> client_;
};

// An operation's error in the CLI's words: the field it names becomes the flag that set
// it ("\"time\": invalid time ..." -> "--time: invalid time ...").
Status ForCli(const Status& s);

}  // namespace mnemo::cli

// The data directory's Unix socket: `mnemo serve` answers its HTTP API there too, so that
// the CLI and `mnemo mcp` reach a running server when it holds the directory's lock.
//
// The socket is DIR/mnemo.sock with owner-only permissions (0600): whoever may connect
// may also read the data files, so a request without a key is the owner's, unrestricted
// (server/app.h). Paths longer than a socket address holds go through
// /proc/self/fd/N/mnemo.sock, N a descriptor of the directory.
//
// Thread safety: LocalHttpClient is for one thread; the functions are reentrant.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "mnemo/status.h"

namespace mnemo::server {

inline constexpr const char* kLocalSocketName = "mnemo.sock";

// DIR/mnemo.sock.
std::string LocalSocketPath(const std::string& data_dir);

// A listening socket at `path` (a stale file there is replaced; the caller holds the data
// directory's lock), permissions 0600, non-blocking and close-on-exec.
Result<int> ListenLocal(const std::string& path);

// One HTTP/1.1 exchange at a time over a connection to a local socket, kept alive and
// reopened when the server closed it.
class LocalHttpClient {
 public:
  struct Reply {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;
    const std::string* Header(const std::string& lower_name) const;
  };

  explicit LocalHttpClient(std::string path) : path_(std::move(path)) {}
  ~LocalHttpClient();
  LocalHttpClient(const LocalHttpClient&) = delete;
  LocalHttpClient& operator=(const LocalHttpClient&) = delete;

  // Connects now: Unavailable when nothing listens there (no server, or a stale file).
  Status Connect();
  // Sends one request (Content-Length framed) and reads the whole answer. Unavailable
  // when the server is gone.
  Result<Reply> Request(const std::string& method, const std::string& target,
                        const std::vector<std::pair<std::string, std::string>>& headers,
                        const std::string& body);

 private:
  Result<Reply> Exchange(const std::string& request);
  void Close();

  std::string path_;
  int fd_ = -1;
  std::string buffered_;  // bytes read past the previous answer
};

}  // namespace mnemo::server

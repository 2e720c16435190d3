#include "server/local_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace mnemo::server {
namespace {

// sockaddr_un for `path`; a path too long for sun_path goes through a descriptor of its
// directory, which the address holds open.
class LocalAddress {
 public:
  ~LocalAddress() {
    if (dir_fd_ >= 0) ::close(dir_fd_);
  }

  Status Set(const std::string& path) {
    std::string name = path;
    if (name.size() >= sizeof(addr_.sun_path)) {
      const size_t slash = path.rfind('/');
      const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
      dir_fd_ = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (dir_fd_ < 0) return Status::IOError("cannot open " + dir + ": " + std::strerror(errno));
      name = "/proc/self/fd/" + std::to_string(dir_fd_) + "/" + path.substr(slash + 1);
      if (name.size() >= sizeof(addr_.sun_path)) {
        return Status::InvalidArgument("socket name too long: " + path);
      }
    }
    addr_.sun_family = AF_UNIX;
    std::memcpy(addr_.sun_path, name.c_str(), name.size() + 1);
    name_ = name;
    return Status::Ok();
  }

  const sockaddr* addr() const { return reinterpret_cast<const sockaddr*>(&addr_); }
  socklen_t size() const { return sizeof addr_; }
  const std::string& name() const { return name_; }

 private:
  sockaddr_un addr_{};
  std::string name_;
  int dir_fd_ = -1;
};

Status Errno(const std::string& what) {
  return Status::IOError(what + ": " + std::strerror(errno));
}

}  // namespace

std::string LocalSocketPath(const std::string& data_dir) {
  return data_dir + "/" + kLocalSocketName;
}

Result<int> ListenLocal(const std::string& path) {
  LocalAddress a;
  MNEMO_RETURN_IF_ERROR(a.Set(path));
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("cannot create a Unix socket");
  ::unlink(a.name().c_str());  // a previous server's: the caller holds the lock now
  // Owner-only from the start: the umask applies to the file bind() creates.
  const mode_t old_mask = ::umask(0077);
  const int bound = ::bind(fd, a.addr(), a.size());
  ::umask(old_mask);
  if (bound != 0 || ::chmod(a.name().c_str(), 0600) != 0 || ::listen(fd, SOMAXCONN) != 0) {
    Status s = Errno("cannot listen on " + path);
    ::close(fd);
    return s;
  }
  return fd;
}

const std::string* LocalHttpClient::Reply::Header(const std::string& lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return &v;
  }
  return nullptr;
}

LocalHttpClient::~LocalHttpClient() { Close(); }

void LocalHttpClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffered_.clear();
}

Status LocalHttpClient::Connect() {
  Close();
  LocalAddress a;
  MNEMO_RETURN_IF_ERROR(a.Set(path_));
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return Errno("cannot create a Unix socket");
  if (::connect(fd_, a.addr(), a.size()) != 0) {
    Status s =
        Status::Unavailable("no mnemo server answers at " + path_ + ": " + std::strerror(errno));
    Close();
    return s;
  }
  return Status::Ok();
}

Result<LocalHttpClient::Reply> LocalHttpClient::Request(
    const std::string& method, const std::string& target,
    const std::vector<std::pair<std::string, std::string>>& headers, const std::string& body) {
  std::string req = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n";
  for (const auto& [k, v] : headers) req += k + ": " + v + "\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  req += body;
  const bool reused = fd_ >= 0;
  if (!reused) MNEMO_RETURN_IF_ERROR(Connect());
  auto reply = Exchange(req);
  // A kept-alive connection the server closed meanwhile (idle timeout): once more.
  if (!reply.ok() && reused && reply.status().code() == StatusCode::kUnavailable) {
    MNEMO_RETURN_IF_ERROR(Connect());
    reply = Exchange(req);
  }
  return reply;
}

Result<LocalHttpClient::Reply> LocalHttpClient::Exchange(const std::string& request) {
  for (size_t sent = 0; sent < request.size();) {
    const ssize_t n = ::send(fd_, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Close();
      return Status::Unavailable("the mnemo server at " + path_ + " closed the connection");
    }
    sent += static_cast<size_t>(n);
  }
  auto fill = [&]() -> bool {
    char chunk[64 * 1024];
    for (;;) {
      const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      buffered_.append(chunk, static_cast<size_t>(n));
      return true;
    }
  };
  auto gone = [&]() {
    Close();
    return Status::Unavailable("the mnemo server at " + path_ + " closed the connection");
  };
  size_t head_end;
  while ((head_end = buffered_.find("\r\n\r\n")) == std::string::npos) {
    if (buffered_.size() > 64 * 1024 || !fill()) return gone();
  }
  Reply r;
  const std::string head = buffered_.substr(0, head_end);
  size_t line_end = head.find("\r\n");
  const std::string status_line = head.substr(0, line_end);
  if (status_line.size() < 12 || !status_line.starts_with("HTTP/1.1 ")) {
    Close();
    return Status::Internal("malformed answer from the mnemo server: " + status_line);
  }
  std::from_chars(status_line.data() + 9, status_line.data() + 12, r.status);
  size_t length = 0;
  while (line_end != std::string::npos && line_end < head.size()) {
    const size_t start = line_end + 2;
    line_end = head.find("\r\n", start);
    const std::string line =
        head.substr(start, line_end == std::string::npos ? line_end : line_end - start);
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string name = line.substr(0, colon);
    for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (name == "content-length")
      std::from_chars(value.data(), value.data() + value.size(), length);
    r.headers.emplace_back(std::move(name), std::move(value));
  }
  const size_t body_start = head_end + 4;
  while (buffered_.size() - body_start < length) {
    if (!fill()) return gone();
  }
  r.body = buffered_.substr(body_start, length);
  buffered_.erase(0, body_start + length);
  if (const std::string* c = r.Header("connection"); c && *c == "close") Close();
  return r;
}

}  // namespace mnemo::server

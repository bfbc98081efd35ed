#pragma once

// HTTP for the registry client: the seam tests replace. A request is a method, headers and a
// body (in memory or streamed from a file); a response keeps its status and headers (the
// token challenge, `Link`, `Location`, `Docker-Content-Digest` live there). CurlTransport is
// the libcurl implementation, with bounded timeouts.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "provision/result.hpp"
#include "provision/sys/http.hpp"

namespace labctl::registry {

struct Request {
  std::string method = "GET";        // GET, HEAD, POST, PUT
  std::string url;                   // absolute
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent as is (POST, PUT)
  std::string body_file;             // sent from this file instead of `body` (blob upload)
  std::string output_file;           // a 2xx body is written here instead of Response::body
  sys::ProgressFn progress;          // bytes of the body received (or sent, for body_file)
};

struct Response {
  long status = 0;
  std::map<std::string, std::string> headers;  // names in lower case; of the last response
  std::string body;                            // empty when written to Request::output_file

  std::string header(const std::string& lower_name) const;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // An HTTP response of any status; an Error only when none came (refused, timeout, DNS).
  virtual Result<Response> send(const Request& request) = 0;
};

struct TransportTimeouts {
  std::chrono::seconds connect{10};
  std::chrono::seconds total{0};   // 0: none (blobs); a stall still fails (below)
  std::chrono::seconds stall{60};  // < 1 KiB/s for this long fails the request
};

// GET and HEAD follow redirects (blob storage often answers with one); POST and PUT do not
// (an upload's Location is the registry's next step, not a redirect to follow).
class CurlTransport : public Transport {
 public:
  explicit CurlTransport(TransportTimeouts timeouts = {});
  Result<Response> send(const Request& request) override;

 private:
  TransportTimeouts m_timeouts;
};

}  // namespace labctl::registry

#pragma once

// A Transport for tests: answers from a script ("METHOD URL" -> responses, the last one
// repeated) and records every request, so that a test can assert the whole exchange.

#include <deque>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "provision/registry/transport.hpp"

namespace labctl::registry {

class FakeTransport : public Transport {
 public:
  void on(const std::string& method, const std::string& url, Response response) {
    m_script[method + " " + url].push_back(std::move(response));
  }

  Result<Response> send(const Request& request) override {
    m_requests.push_back(request);
    auto it = m_script.find(request.method + " " + request.url);
    if (it == m_script.end()) {
      return Error::failure(request.method + " " + request.url + ": Couldn't connect to server");
    }
    Response response = it->second.front();
    if (it->second.size() > 1) {
      it->second.pop_front();
    }
    if (!request.output_file.empty() && response.status / 100 == 2) {
      std::ofstream(request.output_file, std::ios::binary) << response.body;
      response.body.clear();
    }
    return response;
  }

  // "METHOD URL" of every request, in order.
  std::vector<std::string> asked() const {
    std::vector<std::string> out;
    for (const Request& r : m_requests) {
      out.push_back(r.method + " " + r.url);
    }
    return out;
  }
  const std::vector<Request>& requests() const { return m_requests; }

 private:
  std::map<std::string, std::deque<Response>> m_script;
  std::vector<Request> m_requests;
};

}  // namespace labctl::registry

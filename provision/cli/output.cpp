#include "provision/cli/output.hpp"

#include <cstring>
#include <sstream>

#include <fmt/format.h>

namespace labctl::cli {

namespace {

std::string kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage:
      return "usage";
    case ErrorKind::lab:
      return "lab";
    case ErrorKind::failure:
      break;
  }
  return "operation";
}

void print_document(const nlohmann::ordered_json& document, bool one_line) {
  fmt::print("{}\n", one_line ? document.dump() : document.dump(2));
  std::fflush(stdout);
}

}  // namespace

nlohmann::ordered_json error_json(const Error& error) {
  nlohmann::ordered_json out = {{"kind", kind_name(error.kind)}, {"message", error.message}};
  if (error.site) {
    out["file"] = error.site->file;
    if (error.site->line > 0) {
      out["line"] = error.site->line;
      out["column"] = error.site->column;
      out["key"] = error.site->key;
    }
  }
  return out;
}

int print_json_outcome(const Status& status, const JsonOutput& output) {
  if (status) {
    if (!output.streamed) {
      print_document(output.document.is_null() ? nlohmann::ordered_json::object() : output.document,
                     false);
    }
    return 0;
  }
  nlohmann::ordered_json out = {{"error", error_json(status.error())}};
  if (!output.document.is_null()) {
    out["result"] = output.document;
  }
  // After JSON lines, the error is one more line.
  print_document(out, output.streamed);
  return status.error().exit_code();
}

int print_json_parse_outcome(CLI::App& app, const CLI::ParseError& error) {
  std::ostringstream out;
  std::ostringstream err;
  const int code = app.exit(error, out, err);
  if (code == 0) {
    std::string text = out.str();
    while (!text.empty() && text.back() == '\n') {
      text.pop_back();
    }
    print_document({{error.get_name() == "CallForVersion" ? "version" : "help", text}}, false);
    return 0;
  }
  return print_json_outcome(Status(Error::usage(error.what())), {});
}

bool json_requested(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--") == 0) {
      return false;
    }
    if (std::strcmp(argv[i], "--json") == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace labctl::cli

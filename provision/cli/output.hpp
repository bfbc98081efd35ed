#pragma once

// Machine-readable output (--json): a command never prints its data itself; it fills one
// document, and app.cpp prints it once at the end, on success as it is and on failure inside
// an error document, so that stdout always holds exactly one JSON document. stderr then holds
// only JSON lines of events (notices too).

#include <memory>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "provision/result.hpp"

namespace labctl::cli {

struct JsonOutput {
  nlohmann::ordered_json document;  // null: the command had nothing to say
  bool streamed = false;            // the command printed JSON lines itself (status --watch)
};

// {"kind": "usage"|"lab"|"operation", "message": ..., and for lab-file errors "file",
// "line", "column", "key"}.
nlohmann::ordered_json error_json(const Error& error);

// What app.cpp prints under --json once the command has run: the document, or on failure
// {"error": error_json, "result": the document so far (when there is one)}. Returns the exit
// code.
int print_json_outcome(const Status& status, const JsonOutput& output);

// A command line CLI11 refused (or --help/--version), as one JSON document.
int print_json_parse_outcome(CLI::App& app, const CLI::ParseError& error);

// --json anywhere before a "--" (the flag may not be parsed yet when parsing failed).
bool json_requested(int argc, char** argv);

}  // namespace labctl::cli

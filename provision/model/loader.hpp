#pragma once

// Lab file -> validated, expanded model::Lab. The only entry points of the model module's
// YAML reading; errors are ErrorKind::lab, one line: "FILE:LINE:COL: key.path: message".
// The schema is documented in README.md ("The lab file").

#include <string>

#include "provision/model/lab.hpp"
#include "provision/model/result.hpp"

namespace labctl::model {

Result<Lab> load_lab(const std::string& path);  // reads the file
Result<Lab> parse_lab(const std::string& text, const std::string& file_name);

}  // namespace labctl::model

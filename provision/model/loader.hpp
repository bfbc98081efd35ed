#pragma once

// Lab file -> validated, expanded model::Lab. The only entry points of the model module's
// YAML reading; errors are ErrorKind::lab, one line: "FILE:LINE:COL: key.path: message".
// The schema is documented in README.md ("The lab file").

#include <cstddef>
#include <string>

#include "provision/model/lab.hpp"
#include "provision/model/limits.hpp"
#include "provision/result.hpp"

namespace labctl::model {

// A lab file is a regular file of at most this size (documented in README.md): a device, a
// directory or a pipe is refused before it is read, and a larger file is never read whole.
constexpr std::size_t k_max_lab_file = 1024 * 1024;

// `backends`: what the hosts' backends cannot do is refused too (limits.hpp; the CLI passes
// hv::backends()); without them only the file itself is checked.
Result<Lab> load_lab(const std::string& path, const Backends& backends = {});  // reads the file
Result<Lab> parse_lab(const std::string& text, const std::string& file_name,
                      const Backends& backends = {});

}  // namespace labctl::model

#pragma once

// Memory and disk sizes as written in lab files: "2GiB", "2048MiB", "2G", "512M", "1024KiB",
// or a plain number of bytes. Every unit is binary (G = GiB); decimal units are refused so
// that "2GB" never silently means 1.86 GiB.

#include <string>
#include <string_view>

#include "provision/model/lab.hpp"
#include "provision/result.hpp"

namespace labctl::model {

// Error::message is the complaint only ("invalid size '2 bananas' (use e.g. 2GiB, 512MiB)");
// the loader adds the location.
Result<Bytes> parse_size(std::string_view text);

// The shortest exact spelling: 2GiB, 1536MiB, 12KiB, 100 (bytes).
std::string format_size(Bytes bytes);

}  // namespace labctl::model

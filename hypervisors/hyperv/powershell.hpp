#pragma once

// The only ways a value enters a PowerShell script: ps_quote() for values, check_name() and
// friends for names (checked again here although the model validated them: a renderer must
// not trust its caller to have done so), and encode_command() for the -EncodedCommand form.

#include <string>
#include <string_view>

#include "provision/result.hpp"

namespace labctl::hv::hyperv {

// A PowerShell single-quoted string literal. Inside '...' PowerShell expands nothing ($, `,
// ", ; are inert); the only special characters are the single quotes, which are doubled.
// PowerShell also treats the typographic quotes U+2018..U+201B as single quotes, so they are
// doubled too. NUL, CR, LF and other control characters are rejected: a script line must
// stay one line, and no value labctl renders needs them.
Result<std::string> ps_quote(std::string_view value);

// Resource names: [a-z][a-z0-9-]*, at most 63 characters.
Status check_name(std::string_view what, std::string_view name);
// Volume file names: [a-z0-9][a-z0-9._-]*, no "..": never a path.
Status check_file_name(std::string_view what, std::string_view name);
// Existing host objects labctl does not name (an External switch): anything printable, but
// not the wildcard characters that Hyper-V's -Name parameters expand (* ? [ ]).
Status check_host_name(std::string_view what, std::string_view name);
// An IPv4 address as four plain decimal octets ("10.255.255.1"): a route's destination or
// next hop.
Status check_ipv4(std::string_view what, std::string_view address);

// "02:c4:1e:03:01:00" -> "02C41E030100" (the form -StaticMacAddress takes).
Result<std::string> mac_for_hyperv(std::string_view mac);

// UTF-8 -> UTF-16LE bytes; invalid UTF-8 is an error.
Result<std::string> utf16le(std::string_view utf8);
// RFC 4648 base64 with padding.
std::string base64(std::string_view bytes);
// What powershell.exe -EncodedCommand expects: base64 of the script in UTF-16LE.
Result<std::string> encode_command(std::string_view script);

}  // namespace labctl::hv::hyperv

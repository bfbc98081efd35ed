#pragma once

// Reading the few values labctl needs back out of XML that libvirt itself formatted
// (virNetworkGetXMLDesc, virStoragePoolGetXMLDesc, ...). libvirt writes well-formed XML with
// quoted attributes and no CDATA, so a small scanner does; it is not a general XML parser.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hypervisors/hypervisor.hpp"

namespace labctl::hv::libvirt {

// Start tags ("<ip address='..' ...>") of every element with this qualified name, in order.
std::vector<std::string_view> start_tags(std::string_view xml, std::string_view element);
// The unescaped value of `name` in one start tag.
std::optional<std::string> tag_attribute(std::string_view start_tag, std::string_view name);
// First element's attribute / text content, unescaped.
std::optional<std::string> attribute(std::string_view xml, std::string_view element,
                                     std::string_view name);
std::optional<std::string> text(std::string_view xml, std::string_view element);
// Text of `element` inside the first `parent` ("target"/"path" of a pool).
std::optional<std::string> child_text(std::string_view xml, std::string_view parent,
                                      std::string_view element);
std::string xml_unescape(std::string_view text);

// The labctl tag, only when it is bound to labctl's namespace.
std::optional<Tag> parse_tag(std::string_view xml);
// The element virDomainGetMetadata returns for labctl's namespace: libvirt already matched
// the namespace and hands it back unprefixed ("<tag classroom=... />").
std::optional<Tag> parse_metadata_tag(std::string_view element_xml);
std::optional<Tag> tag_from(std::string_view start_tag);
// "10.61.3.0/24" of the first IPv4 <ip> element, "" when there is none.
std::string network_cidr(std::string_view xml);

}  // namespace labctl::hv::libvirt

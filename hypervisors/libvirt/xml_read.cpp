#include "hypervisors/libvirt/xml_read.hpp"

#include <arpa/inet.h>

#include <bit>
#include <charconv>
#include <cstdint>

#include <fmt/format.h>

#include "hypervisors/libvirt/xml.hpp"

namespace labctl::hv::libvirt {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

bool name_ends_at(std::string_view xml, std::size_t pos) {
  return pos >= xml.size() || is_space(xml[pos]) || xml[pos] == '/' || xml[pos] == '>';
}

// Position of the first "<element" start tag at or after `from`, npos if none.
std::size_t find_start(std::string_view xml, std::string_view element, std::size_t from) {
  const std::string open = "<" + std::string(element);
  for (std::size_t pos = xml.find(open, from); pos != std::string_view::npos;
       pos = xml.find(open, pos + 1)) {
    if (name_ends_at(xml, pos + open.size())) {
      return pos;
    }
  }
  return std::string_view::npos;
}

std::optional<std::uint32_t> parse_ipv4(const std::string& dotted) {
  in_addr addr{};
  if (inet_pton(AF_INET, dotted.c_str(), &addr) != 1) {
    return std::nullopt;
  }
  return ntohl(addr.s_addr);
}

std::optional<int> prefix_of(std::string_view ip_tag) {
  if (auto prefix = tag_attribute(ip_tag, "prefix")) {
    int value = -1;
    std::from_chars(prefix->data(), prefix->data() + prefix->size(), value);
    return value;
  }
  if (auto mask = tag_attribute(ip_tag, "netmask")) {
    if (auto bits = parse_ipv4(*mask)) {
      return std::popcount(*bits);
    }
  }
  return std::nullopt;
}

}  // namespace

std::vector<std::string_view> start_tags(std::string_view xml, std::string_view element) {
  std::vector<std::string_view> tags;
  for (std::size_t pos = find_start(xml, element, 0); pos != std::string_view::npos;
       pos = find_start(xml, element, pos + 1)) {
    const std::size_t end = xml.find('>', pos);
    if (end == std::string_view::npos) {
      break;
    }
    tags.push_back(xml.substr(pos, end - pos + 1));
  }
  return tags;
}

std::optional<std::string> tag_attribute(std::string_view start_tag, std::string_view name) {
  const std::string key = std::string(name) + "=";
  std::size_t pos = start_tag.find(key);
  while (pos != std::string_view::npos && (pos == 0 || !is_space(start_tag[pos - 1]))) {
    pos = start_tag.find(key, pos + 1);
  }
  if (pos == std::string_view::npos || pos + key.size() >= start_tag.size()) {
    return std::nullopt;
  }
  const std::size_t quote_at = pos + key.size();
  const char quote = start_tag[quote_at];
  const std::size_t end = start_tag.find(quote, quote_at + 1);
  if ((quote != '"' && quote != '\'') || end == std::string_view::npos) {
    return std::nullopt;
  }
  return xml_unescape(start_tag.substr(quote_at + 1, end - quote_at - 1));
}

std::optional<std::string> attribute(std::string_view xml, std::string_view element,
                                     std::string_view name) {
  const auto tags = start_tags(xml, element);
  if (tags.empty()) {
    return std::nullopt;
  }
  return tag_attribute(tags.front(), name);
}

std::optional<std::string> text(std::string_view xml, std::string_view element) {
  const auto tags = start_tags(xml, element);
  if (tags.empty() || tags.front().ends_with("/>")) {
    return std::nullopt;
  }
  const std::size_t begin = tags.front().data() - xml.data() + tags.front().size();
  const std::size_t end = xml.find("</" + std::string(element) + ">", begin);
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  return xml_unescape(xml.substr(begin, end - begin));
}

std::optional<std::string> child_text(std::string_view xml, std::string_view parent,
                                      std::string_view element) {
  const std::size_t begin = find_start(xml, parent, 0);
  if (begin == std::string_view::npos) {
    return std::nullopt;
  }
  const std::size_t end = xml.find("</" + std::string(parent) + ">", begin);
  return text(xml.substr(begin, end == std::string_view::npos ? end : end - begin), element);
}

std::string xml_unescape(std::string_view text) {
  static constexpr std::pair<std::string_view, char> k_entities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    bool replaced = false;
    for (const auto& [entity, c] : k_entities) {
      if (text.substr(i, entity.size()) == entity) {
        out += c;
        i += entity.size() - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) {
      out += text[i];
    }
  }
  return out;
}

std::optional<Tag> tag_from(std::string_view start_tag) {
  const auto classroom = tag_attribute(start_tag, "classroom");
  if (!classroom) {
    return std::nullopt;
  }
  Tag tag;
  tag.classroom = *classroom;
  tag.team = tag_attribute(start_tag, "team").value_or("");
  tag.role = tag_attribute(start_tag, "role").value_or("");
  tag.spec_hash = tag_attribute(start_tag, "spec").value_or("");
  tag.identity = tag_attribute(start_tag, "identity").value_or("");
  return tag;
}

std::optional<Tag> parse_tag(std::string_view xml) {
  const std::string element = std::string(k_tag_prefix) + ":tag";
  const auto tags = start_tags(xml, element);
  if (tags.empty()) {
    return std::nullopt;
  }
  const auto ns = tag_attribute(tags.front(), "xmlns:" + std::string(k_tag_prefix));
  if (!ns || *ns != k_tag_namespace) {
    return std::nullopt;
  }
  return tag_from(tags.front());
}

std::optional<Tag> parse_metadata_tag(std::string_view element_xml) {
  const auto tags = start_tags(element_xml, "tag");
  return tags.empty() ? std::nullopt : tag_from(tags.front());
}

std::string network_cidr(std::string_view xml) {
  for (std::string_view ip : start_tags(xml, "ip")) {
    const auto family = tag_attribute(ip, "family");
    const auto address = tag_attribute(ip, "address");
    const auto prefix = prefix_of(ip);
    if ((family && *family != "ipv4") || !address || !prefix) {
      continue;
    }
    const auto bits = parse_ipv4(*address);
    if (!bits || *prefix < 0 || *prefix > 32) {
      continue;
    }
    const std::uint32_t mask = *prefix == 0 ? 0U : ~0U << (32 - *prefix);
    const std::uint32_t net = *bits & mask;
    return fmt::format("{}.{}.{}.{}/{}", net >> 24, (net >> 16) & 0xff, (net >> 8) & 0xff,
                       net & 0xff, *prefix);
  }
  return {};
}

}  // namespace labctl::hv::libvirt

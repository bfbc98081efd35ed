#include "hypervisors/libvirt/xml_read.hpp"

#include <catch2/catch.hpp>

#include "hypervisors/libvirt/xml.hpp"

using namespace labctl::hv::libvirt;

TEST_CASE("reading values back from libvirt's XML", "[unit]") {
  SECTION("attributes in either quote style, entities decoded") {
    const std::string xml =
        "<pool type='dir'>\n  <name>a&amp;b</name>\n"
        "  <target>\n    <path>/x/y</path>\n  </target>\n</pool>";
    CHECK(attribute(xml, "pool", "type") == "dir");
    CHECK(text(xml, "name") == "a&b");
    CHECK(child_text(xml, "target", "path") == "/x/y");
    CHECK_FALSE(attribute(xml, "pool", "ty").has_value());
    CHECK_FALSE(text(xml, "nam").has_value());
  }
  SECTION("element names must match whole") {
    const std::string xml = "<ipx address='1.2.3.4'/><ip address=\"10.0.0.1\" prefix='16'/>";
    CHECK(attribute(xml, "ip", "address") == "10.0.0.1");
    CHECK(network_cidr(xml) == "10.0.0.0/16");
  }
  SECTION("network CIDR from netmask, IPv6 skipped, none when unaddressed") {
    CHECK(network_cidr("<ip family='ipv6' address='fd00::1' prefix='64'/>"
                       "<ip address='192.168.122.1' netmask='255.255.255.0'>") ==
          "192.168.122.0/24");
    CHECK(network_cidr("<network><name>x</name></network>").empty());
  }
  SECTION("a tag counts only in labctl's namespace") {
    const std::string ours =
        "<metadata>" + render_tag({"cd26", "team1", "network", "abc"}) + "</metadata>";
    const auto tag = parse_tag(ours);
    REQUIRE(tag.has_value());
    CHECK(tag->classroom == "cd26");
    CHECK(tag->team == "team1");
    CHECK(tag->role == "network");
    CHECK(tag->spec_hash == "abc");
    CHECK_FALSE(parse_tag("<labctl:tag xmlns:labctl='urn:other' classroom='cd26'/>"));
    CHECK_FALSE(parse_tag("<network><name>cd26-team1-lan</name></network>"));
  }
  SECTION("the unprefixed element virDomainGetMetadata returns") {
    const auto tag = parse_metadata_tag("<tag classroom=\"cd26\" team=\"team2\" role=\"domain\"/>");
    REQUIRE(tag.has_value());
    CHECK(tag->team == "team2");
    CHECK(tag->spec_hash.empty());
    CHECK_FALSE(parse_metadata_tag("<tag team=\"x\"/>"));
  }
}

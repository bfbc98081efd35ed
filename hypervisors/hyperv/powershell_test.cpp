#include "hypervisors/hyperv/powershell.hpp"

#include <catch2/catch.hpp>

#include "hypervisors/hyperv/script.hpp"

namespace hy = labctl::hv::hyperv;

TEST_CASE("ps_quote makes single-quoted PowerShell literals", "[unit]") {
  SECTION("plain values are wrapped") {
    CHECK(*hy::ps_quote("cd26-team1-vm1") == "'cd26-team1-vm1'");
    CHECK(*hy::ps_quote("") == "''");
    CHECK(*hy::ps_quote("C:\\ProgramData\\labctl") == "'C:\\ProgramData\\labctl'");
  }
  SECTION("single quotes are doubled; $, backtick, double quote and ; stay inert as-is") {
    CHECK(*hy::ps_quote("it's") == "'it''s'");
    CHECK(*hy::ps_quote("'; Remove-Item C:\\ -Recurse; '") ==
          "'''; Remove-Item C:\\ -Recurse; '''");
    CHECK(*hy::ps_quote("$env:USERNAME `n \"$(calc)\"") == "'$env:USERNAME `n \"$(calc)\"'");
  }
  SECTION("typographic quotes, which PowerShell also ends strings on, are doubled") {
    CHECK(*hy::ps_quote("a\u2019b") == "'a\u2019\u2019b'");
    CHECK(*hy::ps_quote("\u2018x\u201b") == "'\u2018\u2018x\u201b\u201b'");
    CHECK(*hy::ps_quote("\u201c") == "'\u201c'");  // a double quote mark is not special here
  }
  SECTION("newlines, carriage returns, NUL and other control characters are rejected") {
    for (std::string bad :
         {std::string("a\nb"), std::string("a\rb"), std::string("a\0b", 3),
          std::string("tab\there"), std::string("esc\x1b"), std::string("del\x7f")}) {
      auto quoted = hy::ps_quote(bad);
      REQUIRE_FALSE(quoted.ok());
      CHECK_THAT(quoted.error().message, Catch::Contains("control character"));
    }
  }
}

TEST_CASE("names are checked again before they reach a script", "[unit]") {
  CHECK(hy::check_name("VM", "cd26-team1-vm1").ok());
  for (const char* bad :
       {"", "Cd26", "1abc", "a b", "a'b", "a;b", "a$b", "a`b", "a_b", "a.b", "a\nb", "-x"}) {
    INFO(bad);
    CHECK_FALSE(hy::check_name("VM", bad).ok());
  }
  CHECK_FALSE(hy::check_name("VM", std::string(64, 'a')).ok());
  CHECK(hy::check_file_name("volume", "cd26-team1-vm1-seed.iso").ok());
  for (const char* bad : {"..", "a/../b", "a\\b", "C:x", "a b.vhdx", ".hidden", "x..vhdx"}) {
    INFO(bad);
    CHECK_FALSE(hy::check_file_name("volume", bad).ok());
  }
  CHECK(hy::check_host_name("switch", "External Switch").ok());
  CHECK_FALSE(hy::check_host_name("switch", "Ext*").ok());
  CHECK_FALSE(hy::check_host_name("switch", "[a]").ok());
}

TEST_CASE("MACs become Hyper-V's upper-case form without separators", "[unit]") {
  CHECK(*hy::mac_for_hyperv("02:c4:1e:03:01:00") == "02C41E030100");
  CHECK(*hy::mac_for_hyperv("02:C4:1E:0a:ff:00") == "02C41E0AFF00");
  for (const char* bad : {"02-c4-1e-03-01-00", "02:c4:1e:03:01", "02:c4:1e:03:01:0g",
                          "02:c4:1e:03:01:00:", "'02:c4:1e:03:01"}) {
    INFO(bad);
    CHECK_FALSE(hy::mac_for_hyperv(bad).ok());
  }
}

// Expected values computed independently: python3 -c "base64.b64encode(s.encode('utf-16-le'))".
TEST_CASE("encode_command is base64 of UTF-16LE", "[unit]") {
  CHECK(*hy::encode_command("") == "");
  CHECK(*hy::encode_command("dir") == "ZABpAHIA");
  CHECK(*hy::encode_command("dir \"c:\\program files\" ") ==
        "ZABpAHIAIAAiAGMAOgBcAHAAcgBvAGcAcgBhAG0AIABmAGkAbABlAHMAIgAgAA==");
  CHECK(*hy::encode_command("\u00e9\u20ac\U0001F600") == "6QCsID3YAN4=");  // 2-, 3-, 4-byte UTF-8
  SECTION("base64 padding") {
    CHECK(hy::base64("f") == "Zg==");
    CHECK(hy::base64("fo") == "Zm8=");
    CHECK(hy::base64("foo") == "Zm9v");
    CHECK(hy::base64(std::string("\xff\xfe\x00", 3)) == "//4A");
  }
  SECTION("invalid UTF-8 is an error, not a mangled script") {
    for (std::string bad :
         {std::string("\xff"), std::string("\xc3"), std::string("\xc0\xaf"),
          std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80"), std::string("a\x80")}) {
      CHECK_FALSE(hy::encode_command(bad).ok());
    }
  }
}

TEST_CASE("Notes tags format and parse back", "[unit]") {
  const labctl::hv::Tag tag{"cd26", "team1", "domain", "5f3a9c01"};
  auto text = hy::format_tag(tag);
  REQUIRE(text.ok());
  CHECK(*text == "labctl:v1 classroom=cd26 team=team1 role=domain spec=5f3a9c01");
  SECTION("round trip, also among other lines of Notes written by a person") {
    auto back = hy::parse_tag("Lab VM, do not touch\r\n" + *text + "\r\n");
    REQUIRE(back.has_value());
    CHECK(back->classroom == "cd26");
    CHECK(back->team == "team1");
    CHECK(back->role == "domain");
    CHECK(back->spec_hash == "5f3a9c01");
  }
  SECTION("Notes without a labctl line carry no tag") {
    CHECK_FALSE(hy::parse_tag("").has_value());
    CHECK_FALSE(hy::parse_tag("classroom=cd26").has_value());
    CHECK_FALSE(hy::parse_tag("my labctl:v1 classroom=cd26").has_value());
    CHECK_FALSE(hy::parse_tag("labctl:v1 team=team1").has_value());
  }
  SECTION("values that would not split back are refused") {
    CHECK_FALSE(hy::format_tag({"cd26", "team 1", "domain", ""}).ok());
    CHECK_FALSE(hy::format_tag({"cd26", "team1", "domain", "a'b"}).ok());
    CHECK_FALSE(hy::format_tag({"", "team1", "domain", ""}).ok());
  }
}

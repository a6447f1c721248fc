#include <doctest/doctest.h>

#include <sys/socket.h>

#include <csignal>

#include "base/netaddr.h"
#include "base/signals.h"
#include "base/text.h"
#include "base/units.h"
#include "caps/names.h"
#include "seccomp/names.h"

using namespace ctrun;

TEST_CASE("sizes: suffixes are powers of 1024, max only where allowed") {
  CHECK(parse_size("512M", true)->bytes == 512ULL << 20);
  CHECK(parse_size("2G", false)->bytes == 2ULL << 30);
  CHECK(parse_size("0", false)->bytes == 0);
  CHECK(parse_size("4096", false)->bytes == 4096);
  CHECK(parse_size("1T", false)->bytes == 1ULL << 40);
  CHECK(parse_size("max", true)->is_max);
  CHECK_FALSE(parse_size("max", false));
  for (const char* bad : {"12Q", "", "M", "1.5G", "-1", "1 G", "1g", "1KB", "99999999999999999999", "16777216T"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_size(bad, true));
  }
  CHECK(format_size({false, 512ULL << 20}) == "512M");
  CHECK(format_size({false, 1536 * 1024}) == "1536K");
  CHECK(format_size({false, 1000}) == "1000");
  CHECK(format_size({true, 0}) == "max");
}

TEST_CASE("durations: 10s, 500ms, 2min and combinations") {
  CHECK(*parse_duration_us("10s") == 10'000'000);
  CHECK(*parse_duration_us("500ms") == 500'000);
  CHECK(*parse_duration_us("2min") == 120'000'000);
  CHECK(*parse_duration_us("1min 30s") == 90'000'000);
  CHECK(*parse_duration_us("1h") == 3'600'000'000ULL);
  CHECK(*parse_duration_us("0") == 0);
  for (const char* bad : {"10", "10 s", "s", "", "1.5s", "10sec", "-1s", "99999999999999999999d"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_duration_us(bad));
  }
  CHECK(format_duration_us(90'000'000) == "1min 30s");
  CHECK(format_duration_us(500'000) == "500ms");
}

TEST_CASE("octal modes and integers") {
  CHECK(*parse_octal("0022", 0777) == 022);
  CHECK(*parse_octal("1777", 07777) == 01777);
  CHECK_FALSE(parse_octal("1777", 0777));
  CHECK_FALSE(parse_octal("0089", 0777));
  CHECK_FALSE(parse_octal("", 0777));
  CHECK(format_octal(022) == "0022");
  CHECK(*parse_int("-1000", -1000, 1000) == -1000);
  CHECK_FALSE(parse_int("1001", -1000, 1000));
  CHECK_FALSE(parse_int("1e3", -1000, 1000));
  CHECK_FALSE(parse_int("", 0, 1));
}

TEST_CASE("CPU lists") {
  CHECK(*parse_cpu_list("0-1") == std::vector<unsigned>{0, 1});
  CHECK(*parse_cpu_list("3,0-1,1") == std::vector<unsigned>{0, 1, 3});
  for (const char* bad : {"", "1-", "-1", "2-1", "a", "1,,2", "0-99999"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_cpu_list(bad));
  }
}

TEST_CASE("signals by name, short name, real-time offset and number") {
  CHECK(*parse_signal("SIGTERM") == SIGTERM);
  CHECK(*parse_signal("TERM") == SIGTERM);
  CHECK(*parse_signal("9") == SIGKILL);
  CHECK(*parse_signal("SIGRTMIN+3") == SIGRTMIN + 3);
  CHECK(*parse_signal("SIGRTMAX-1") == SIGRTMAX - 1);
  for (const char* bad : {"SIGFOO", "", "0", "65", "SIGRTMIN+", "SIGRTMIN-1", "SIGRTMIN+99", "sigterm"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_signal(bad));
  }
  CHECK(signal_name(SIGRTMIN + 3) == "SIGRTMIN+3");
  CHECK(signal_name(SIGTERM) == "SIGTERM");
}

TEST_CASE("addresses: IPv4 and IPv6, prefixes required for CIDR") {
  CHECK(parse_cidr("10.0.3.2/24")->prefix == 24);
  CHECK(parse_cidr("fd00::2/64")->address.family == AF_INET6);
  for (const char* bad : {"10.0.3.2", "10.0.3.2/33", "fd00::/129", "10.0.3/24", "10.0.3.2/", "10.0.3.2/+4", "x/1"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_cidr(bad));
  }
  CHECK(cidr_contains(*parse_cidr("10.0.3.0/24"), *parse_ip("10.0.3.1")));
  CHECK_FALSE(cidr_contains(*parse_cidr("10.0.3.0/24"), *parse_ip("10.0.4.1")));
  CHECK(format_cidr(*parse_cidr("fd00:0::2/64")) == "fd00::2/64");
}

TEST_CASE("edit distance drives suggestions within 2 edits") {
  CHECK(edit_distance("memroy", "memory") == 1);
  CHECK(edit_distance("", "abc") == 3);
  std::vector<std::string> keys = {"memory", "cpu", "pids", "io"};
  CHECK(closest_match("memroy", keys) == "memory");
  CHECK(closest_match("zzzzzz", keys).empty());
}

TEST_CASE("text helpers") {
  CHECK(quoted("a\"b\x01") == "\"a\\\"b\\x01\"");
  CHECK(clean_path("/a//b/./c/") == "/a/b/c");
  CHECK(clean_path("/") == "/");
  CHECK(has_dotdot("/a/../b"));
  CHECK_FALSE(has_dotdot("/a/..b"));
}

TEST_CASE("capability and system call names come from libcap and libseccomp") {
  CHECK(*caps::parse_capability("CAP_NET_ADMIN") == 12);
  CHECK(*caps::parse_capability("net_admin") == 12);
  CHECK_FALSE(caps::parse_capability("CAP_FOO"));
  CHECK_FALSE(caps::parse_capability("12"));
  CHECK(caps::capability_name(0) == "CAP_CHOWN");
  CHECK(seccomp::is_known_syscall("keyctl"));
  CHECK(seccomp::is_known_syscall("clone3"));
  CHECK_FALSE(seccomp::is_known_syscall("keyctll"));
  CHECK_FALSE(seccomp::is_known_syscall(""));
}

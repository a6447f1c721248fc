// What ctrun sends systemd, built without a bus: property typing and a
// unit's object path (RequestStop's match). (The plan's properties and the
// AllowedCPUs mask: test_cgroup.cc.)
#include <doctest/doctest.h>

#include "systemd/scope.h"

using namespace ctrun;

TEST_CASE("scope: a unit's object path escapes all but letters and digits") {
  CHECK(systemd::unit_object_path("ctrun-web.scope") == "/org/freedesktop/systemd1/unit/ctrun_2dweb_2escope");
  CHECK(systemd::unit_object_path("ctrun@bt.service") == "/org/freedesktop/systemd1/unit/ctrun_40bt_2eservice");
  CHECK(systemd::unit_object_path("a_b") == "/org/freedesktop/systemd1/unit/a_5fb");
  CHECK(systemd::unit_object_path("x\xc3\xa9") == "/org/freedesktop/systemd1/unit/x_c3_a9");
}

TEST_CASE("scope: systemd.properties values are typed as the bus wants them") {
  auto n = systemd::typed_property("CPUWeight", "200", "systemd.properties.CPUWeight");
  CHECK(n.type == 't');
  CHECK(n.t == 200);
  CHECK(n.key == "systemd.properties.CPUWeight");
  CHECK(systemd::typed_property("IOAccounting", "true", "k").type == 'b');
  CHECK(systemd::typed_property("IOAccounting", "true", "k").b);
  CHECK(systemd::typed_property("Description", "web 2", "k").type == 's');
  // 20 digits and more do not fit a uint64: a string, for systemd to judge
  CHECK(systemd::typed_property("X", "99999999999999999999", "k").type == 's');
}

// systemd.notify: the plan, and the filter between the container's
// messages and the service manager. The sockets run in
// tests/integration/notify.sh.
#include <doctest/doctest.h>

#include <algorithm>

#include "plan/plan.h"
#include "reader_helpers.h"
#include "systemd/notify.h"

using namespace ctrun;
using Mode = plan::NotifyPlan::Mode;

namespace {

ctrun::testing::Planned notify_plan(const std::string& notify, plan::HostFacts host = {}) {
  return ctrun::testing::plan_text(
      "version: 1\nname: web\nrootfs: {path: /srv/root}\nprocess: {args: [/bin/sh]}\nsystemd: {notify: " + notify + "}\n",
      host);
}

}  // namespace

TEST_CASE("notify plan: auto is exec in app mode; container adds the socket's directory and $NOTIFY_SOCKET") {
  plan::HostFacts host;
  host.notify_socket = "/run/systemd/notify";
  host.watchdog_usec = 180000000;
  auto a = notify_plan("auto", host);
  REQUIRE(a.ok);
  CHECK(a.plan.notify.mode == Mode::exec);
  CHECK(a.plan.notify.upstream == "/run/systemd/notify");
  CHECK(a.plan.notify.watchdog_usec == 180000000);
  CHECK(std::none_of(a.plan.exec.env.begin(), a.plan.exec.env.end(),
                     [](const std::string& v) { return v.rfind("NOTIFY_SOCKET=", 0) == 0; }));
  CHECK(plan::format_plan(a.plan).find("notify: {mode: exec, upstream: /run/systemd/notify, watchdog_usec: 180000000}") !=
        std::string::npos);

  auto c = notify_plan("container", host);
  REQUIRE(c.ok);
  CHECK(c.plan.notify.mode == Mode::container);
  CHECK(std::count(c.plan.exec.env.begin(), c.plan.exec.env.end(), "NOTIFY_SOCKET=/run/host/notify") == 1);
  CHECK(std::is_sorted(c.plan.exec.env.begin(), c.plan.exec.env.end()));
  auto dir = std::find_if(c.plan.mounts.begin(), c.plan.mounts.end(),
                          [](const plan::MountStep& s) { return s.target == "/run/host"; });
  REQUIRE(dir != c.plan.mounts.end());
  CHECK(dir->kind == plan::MountStep::Kind::mkdir);

  auto n = notify_plan("none", host);
  REQUIRE(n.ok);
  CHECK(n.plan.notify.mode == Mode::none);
  CHECK(n.plan.notify.watchdog_usec == 0);  // none: not even the watchdog
}

TEST_CASE("notify filter: READY once, STATUS prefixed, MAINPID and the rest stop at ctrun") {
  systemd::GuestNotify st;
  CHECK(systemd::filter_guest_message("STATUS=warming up", "web", st) == "STATUS=web: warming up\n");
  CHECK_FALSE(st.ready);
  CHECK(systemd::filter_guest_message("READY=1\nSTATUS=up\nMAINPID=1\nWATCHDOG=1\nRELOADING=1", "web", st) ==
        "READY=1\nSTATUS=web: up\n");
  CHECK(st.ready);
  CHECK(systemd::filter_guest_message("READY=1", "web", st).empty());  // once
  CHECK(systemd::filter_guest_message("MAINPID=4242", "web", st).empty());
  CHECK(systemd::filter_guest_message("EXIT_STATUS=3\nX_SYSTEMD_SHUTDOWN=poweroff", "web", st).empty());
  CHECK(st.exit_status == "3");
  CHECK(st.shutdown == "poweroff");
  // A status cannot smuggle another assignment or control characters.
  CHECK(systemd::filter_guest_message(std::string("STATUS=a\rMAINPID=1\x1b[2J", 22), "web", st) ==
        "STATUS=web: a MAINPID=1 [2J\n");
  CHECK(systemd::filter_guest_message("READY=11\nREADY", "web", st).empty());
  CHECK(systemd::filter_guest_message("", "web", st).empty());
}

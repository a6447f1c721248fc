// The state file of a running container (state/state.h) and the seccomp
// digest `ctrun exec` compares against it (launch/payload.h). No root needed.
#include <doctest/doctest.h>

#include "base/digest.h"
#include "launch/payload.h"
#include "ops/container.h"
#include "state/state.h"

using namespace ctrun;

namespace {

state::State sample() {
  state::State s;
  s.name = "web";
  s.manifest = "/etc/ctrun/web.yaml";
  s.manifest_sha256 = std::string(64, 'a');
  s.seccomp_sha256 = std::string(64, 'b');
  s.boot_id = "0e8f6c4e-7a51-4f0c-9d59-2d4fd7d1c7aa";
  s.supervisor = {100, 5000};
  s.init = {101, 5001};
  s.main = {102, 5002};
  s.namespaces = {{"pid", 4026532100}, {"mnt", 4026532101}};
  s.cgroups = {{"/sys/fs/cgroup/machine.slice/ctrun-web.scope", "/sys/fs/cgroup/machine.slice/ctrun-web.scope/payload", "", 77}};
  s.unit = "ctrun-web.scope";
  s.network = "veth";
  s.host_interface = "ve-web";
  s.addresses = {"10.0.0.2/24"};
  s.stop_timeout_us = 10000000;
  s.started = 1700000000;
  return s;
}

}  // namespace

TEST_CASE("state: what to_json writes, from_json reads back whole") {
  state::State in = sample(), out;
  std::string error;
  REQUIRE(state::from_json(state::to_json(in), out, error));
  CHECK(out == in);
}

TEST_CASE("state: a missing field is an error, never a default") {
  std::string text = state::to_json(sample());
  auto pos = text.find("\"seccomp_sha256\"");
  REQUIRE(pos != std::string::npos);
  text.replace(pos, 16, "\"seccomp_sha257\"");
  state::State out;
  std::string error;
  CHECK_FALSE(state::from_json(text, out, error));
  CHECK(error.find("seccomp_sha256") != std::string::npos);
}

TEST_CASE("sha256_hex: the standard test vector") {
  CHECK(sha256_hex("abc", 3) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("seccomp_digest: unconfined, and a change of any instruction or flag shows") {
  plan::SeccompPlan off;
  off.enabled = false;
  CHECK(launch::seccomp_digest(off) == "unconfined");

  plan::SeccompPlan a;
  a.compiled.filters = {{{0x06, 0, 0, 0x7fff0000}}};
  std::string da = launch::seccomp_digest(a);
  CHECK(da.size() == 64);
  plan::SeccompPlan b = a;
  b.compiled.filters[0][0].k = 0x00050001;  // ERRNO(1) instead of ALLOW
  CHECK(launch::seccomp_digest(b) != da);
  plan::SeccompPlan c = a;
  c.compiled.flags = 1;
  CHECK(launch::seccomp_digest(c) != da);
  plan::SeccompPlan d = a;
  d.compiled.filters.push_back(a.compiled.filters[0]);  // the same program twice is another set of filters
  CHECK(launch::seccomp_digest(d) != da);
}

// kill --all thaws after signalling: a signal let through may end the
// container, and ctrun removes its cgroup, before the thaw is confirmed.
// A freezer directory that is gone is thawed, never frozen.
TEST_CASE("a freezer whose cgroup is gone counts as thawed, not as frozen") {
  for (bool v1 : {false, true}) {
    ops::Freezer gone{"/nonexistent/ctrun-test/payload", v1};
    std::string error;
    CHECK(ops::set_frozen(gone, false, error));
    CHECK(error.empty());
    CHECK_FALSE(ops::set_frozen(gone, true, error));
    CHECK(error == "the container ended");
  }
}

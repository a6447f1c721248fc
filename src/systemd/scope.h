// Registration with systemd: a transient scope unit for the container
// (StartTransientUnit over the system bus), waited for until its job is
// done. libsystemd is opened only here (dlopen), so that a start that does
// not register pays nothing for it.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/failure.h"

namespace ctrun::systemd {

struct Property {
  std::string name;
  char type = 's';  // 's' string, 't' uint64, 'b' boolean, 'y' byte array (in s)
  std::string s;
  uint64_t t = 0;
  bool b = false;
  std::string key;  // the manifest key it comes from, for errors
};

struct ScopeRequest {
  std::string unit;   // ctrun-web.scope
  std::string slice;  // machine.slice
  std::string description;
  pid_t pid = 0;      // never 0: systemd 252 as PID 1 aborts on PIDs=[0] from outside its pid namespace
  std::vector<Property> properties;
};

// Starts the scope with `pid` in it (Delegate=yes,
// CollectMode=inactive-or-failed) and waits for the job's end. A failure
// says what systemd said and names systemd.register (or the property's key).
// A scope of that name that exists already is stopped first (once): the
// caller holds the container's name lock, so it is a SIGKILLed
// predecessor's that systemd has not collected yet.
//
// With a controller, the scope's Controller= is that connection's unique
// name: systemd then asks ctrun to stop it (RequestStop; `systemctl stop`,
// `machinectl terminate`) instead of signalling every process in it, and
// ctrun stops the container its own way (stop.signal, stop.timeout).
class ScopeController;
bool start_scope(const ScopeRequest& r, Failure& f, ScopeController* controller = nullptr, bool retried = false);

// The bus connection that controls a scope, for the launcher's poll loop.
class ScopeController {
 public:
  ScopeController();
  ~ScopeController();
  ScopeController(const ScopeController&) = delete;
  ScopeController& operator=(const ScopeController&) = delete;
  int fd() const;        // -1 before start_scope succeeded
  short events() const;  // what to poll fd() for
  // Reads what arrived; true once systemd (a sender with euid 0) asked
  // for the scope to stop.
  bool process();

  struct Impl;

 private:
  Impl* impl_;
  friend bool start_scope(const ScopeRequest&, Failure&, ScopeController*, bool);
};

// Stops a unit and waits for its job: a scope that ctrun has left is gone,
// cgroup and all, when this returns.
bool stop_unit(const std::string& unit, Failure& f);

// keep-unit: sets the limits on ctrun's own unit (SetUnitProperties,
// runtime only), which systemd then applies to the unit's cgroup.
bool set_unit_properties(const std::string& unit, const std::vector<Property>& properties, Failure& f);

// The TimeoutStopUSec of a service as systemd loads it (LoadUnit: also a
// template's instance that is not running), UINT64_MAX for infinity;
// nullopt without a bus, or when there is no such unit file.
std::optional<uint64_t> service_stop_timeout_us(const std::string& unit);

// systemd.machine: the container as a machine of systemd-machined
// (machinectl list/status/poweroff/terminate/shell), its leader the
// container's PID 1 (host pid), its unit the one the leader's cgroup
// belongs to.
struct MachineRequest {
  std::string name;
  std::array<uint8_t, 16> id{};  // the container's UUID
  pid_t leader = 0;
  std::string root;              // the rootfs directory
  std::vector<int32_t> ifindices;  // the host side of its network (veth or bridge)
};
// RegisterMachineWithNetwork; *unavailable when machined cannot be reached
// at all (no bus, no machined), which systemd.machine: auto passes over.
bool register_machine(const MachineRequest& r, Failure& f, bool* unavailable);
// UnregisterMachine; quiet (machined drops a machine whose unit ended anyway).
void unregister_machine(const std::string& name);

// A unit's D-Bus object path: /org/freedesktop/systemd1/unit/ and the name
// with every byte but [A-Za-z0-9] as _xx (sd-bus's escaping).
std::string unit_object_path(const std::string& unit);

// AllowedCPUs as systemd takes it: a bit mask, CPU 0 in bit 0 of byte 0.
Property allowed_cpus(const std::vector<unsigned>& cpus, const std::string& key);

// A systemd.properties value typed as the bus wants it: digits -> uint64,
// true/false -> boolean, anything else -> string.
Property typed_property(const std::string& name, const std::string& value, const std::string& key);

}  // namespace ctrun::systemd

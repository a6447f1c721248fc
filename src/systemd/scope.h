// Registration with systemd: a transient scope unit for the container
// (StartTransientUnit over the system bus), waited for until its job is
// done. libsystemd is opened only here (dlopen), so that a start that does
// not register pays nothing for it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "base/failure.h"

namespace ctrun::systemd {

struct Property {
  std::string name;
  char type = 's';  // 's' string, 't' uint64, 'b' boolean
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
bool start_scope(const ScopeRequest& r, Failure& f);

// A systemd.properties value typed as the bus wants it: digits -> uint64,
// true/false -> boolean, anything else -> string.
Property typed_property(const std::string& name, const std::string& value, const std::string& key);

}  // namespace ctrun::systemd

#include "systemd/scope.h"

#include <dlfcn.h>
#include <poll.h>
#include <systemd/sd-bus.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

namespace ctrun::systemd {
namespace {

// The few sd-bus calls we need, from libsystemd.so.0 at run time.
struct Lib {
  void* handle = nullptr;
  decltype(&sd_bus_open_system) open_system = nullptr;
  decltype(&sd_bus_flush_close_unref) close = nullptr;
  decltype(&sd_bus_message_new_method_call) new_call = nullptr;
  decltype(&sd_bus_message_append) append = nullptr;
  decltype(&sd_bus_message_open_container) open_container = nullptr;
  decltype(&sd_bus_message_close_container) close_container = nullptr;
  decltype(&sd_bus_call) call = nullptr;
  decltype(&sd_bus_message_read) read = nullptr;
  decltype(&sd_bus_message_unref) message_unref = nullptr;
  decltype(&sd_bus_error_free) error_free = nullptr;
  decltype(&sd_bus_match_signal) match_signal = nullptr;
  decltype(&sd_bus_process) process = nullptr;
  decltype(&sd_bus_wait) wait = nullptr;
  decltype(&sd_bus_slot_unref) slot_unref = nullptr;
  decltype(&sd_bus_message_append_array) append_array = nullptr;
  decltype(&sd_bus_get_property_trivial) get_trivial = nullptr;
  decltype(&sd_bus_get_property_string) get_string = nullptr;
  decltype(&sd_bus_get_unique_name) unique_name = nullptr;
  decltype(&sd_bus_get_fd) get_fd = nullptr;
  decltype(&sd_bus_get_events) get_events = nullptr;
  decltype(&sd_bus_query_sender_creds) sender_creds = nullptr;
  decltype(&sd_bus_creds_get_euid) creds_euid = nullptr;
  decltype(&sd_bus_creds_unref) creds_unref = nullptr;
  decltype(&sd_bus_message_get_path) message_path = nullptr;

  bool load() {
    handle = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!handle) return false;
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(handle, name));
      return fn != nullptr;
    };
    return sym(open_system, "sd_bus_open_system") && sym(close, "sd_bus_flush_close_unref") &&
           sym(new_call, "sd_bus_message_new_method_call") && sym(append, "sd_bus_message_append") &&
           sym(open_container, "sd_bus_message_open_container") &&
           sym(close_container, "sd_bus_message_close_container") && sym(call, "sd_bus_call") &&
           sym(read, "sd_bus_message_read") && sym(message_unref, "sd_bus_message_unref") &&
           sym(error_free, "sd_bus_error_free") && sym(match_signal, "sd_bus_match_signal") &&
           sym(process, "sd_bus_process") && sym(wait, "sd_bus_wait") && sym(slot_unref, "sd_bus_slot_unref") &&
           sym(append_array, "sd_bus_message_append_array") &&
           sym(get_trivial, "sd_bus_get_property_trivial") && sym(get_string, "sd_bus_get_property_string") &&
           sym(unique_name, "sd_bus_get_unique_name") && sym(get_fd, "sd_bus_get_fd") &&
           sym(get_events, "sd_bus_get_events") && sym(sender_creds, "sd_bus_query_sender_creds") &&
           sym(creds_euid, "sd_bus_creds_get_euid") && sym(creds_unref, "sd_bus_creds_unref") &&
           sym(message_path, "sd_bus_message_get_path");
  }
};

struct JobWait {
  decltype(&sd_bus_message_read) read = nullptr;
  std::string path;
  std::string result;
  bool done = false;
};

int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto* w = static_cast<JobWait*>(userdata);
  uint32_t id;
  const char *path = nullptr, *unit = nullptr, *result = nullptr;
  if (w->read(m, "uoss", &id, &path, &unit, &result) >= 0 && path && w->path == path) {
    w->result = result ? result : "";
    w->done = true;
  }
  return 0;
}

// One (sv) entry of a property array.
// One method call on systemd's manager over a connection of its own:
// libsystemd loaded, the system bus opened, JobRemoved watched when the
// call starts a job (subscribed before the call, so that the job's end
// cannot slip by), the message begun. The destructor releases it all.
struct ManagerCall {
  Lib lib;
  sd_bus* bus = nullptr;
  sd_bus_message* m = nullptr;
  sd_bus_message* reply = nullptr;
  sd_bus_slot* slot = nullptr;
  sd_bus_error error = SD_BUS_ERROR_NULL;
  JobWait wait;
  bool loaded = false;

  // what: the failure's action when libsystemd is missing; bus_detail: its
  // detail when the bus cannot be reached.
  bool open(const char* method, bool watch_jobs, const std::string& what, const std::string& bus_detail, Failure& f,
            const char* key = "systemd.register", const char* service = "org.freedesktop.systemd1",
            const char* path = "/org/freedesktop/systemd1", const char* iface = "org.freedesktop.systemd1.Manager") {
    if (!lib.load()) return f = {what, 0, key, "libsystemd.so.0 cannot be loaded"}, false;
    loaded = true;
    if (int rc = lib.open_system(&bus); rc < 0) {
      bus = nullptr;
      return f = {"connect to the system bus", -rc, key, bus_detail}, false;
    }
    if (watch_jobs) {
      wait.read = lib.read;
      lib.match_signal(bus, &slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                       "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, &wait);
    }
    if (int rc = lib.new_call(bus, &m, service, path, iface, method); rc < 0) {
      return f = {std::string("build the ") + method + " call", -rc, key, {}}, false;
    }
    return true;
  }
  // The call; the error's text (systemd's message, else errno's) in `what`.
  bool call(std::string& what) {
    int rc = lib.call(bus, m, 0, &error, &reply);
    if (rc >= 0) return true;
    what = error.message ? error.message : std::strerror(-rc);
    return false;
  }
  bool error_is(const char* name) const { return error.name && std::strcmp(error.name, name) == 0; }
  ~ManagerCall() {
    if (!loaded) return;
    if (slot) lib.slot_unref(slot);
    if (m) lib.message_unref(m);
    if (reply) lib.message_unref(reply);
    lib.error_free(&error);
    if (bus) lib.close(bus);
  }
};

int append_property(Lib& lib, sd_bus_message* m, const Property& p) {
  switch (p.type) {
    case 't': return lib.append(m, "(sv)", p.name.c_str(), "t", p.t);
    case 'b': return lib.append(m, "(sv)", p.name.c_str(), "b", p.b ? 1 : 0);
    case 'y': {
      int rc;
      if ((rc = lib.open_container(m, 'r', "sv")) < 0 || (rc = lib.append(m, "s", p.name.c_str())) < 0 ||
          (rc = lib.open_container(m, 'v', "ay")) < 0 || (rc = lib.append_array(m, 'y', p.s.data(), p.s.size())) < 0 ||
          (rc = lib.close_container(m)) < 0) {
        return rc;
      }
      return lib.close_container(m);
    }
    default: return lib.append(m, "(sv)", p.name.c_str(), "s", p.s.c_str());
  }
}

// The manifest key of the property systemd's error names, else `fallback`.
std::string key_of_error(const std::vector<Property>& props, const std::string& what, const std::string& fallback) {
  for (const auto& p : props) {
    if (what.find(p.name) != std::string::npos) return p.key;
  }
  return fallback;
}

// Reads the job out of a reply and waits (10 s at most) for its JobRemoved:
// "done", or what went wrong.
std::string wait_for_job(Lib& lib, sd_bus* bus, sd_bus_message* reply, JobWait& wait) {
  const char* job = nullptr;
  if (lib.read(reply, "o", &job) < 0 || !job) return "no job in systemd's answer";
  wait.path = job;
  for (int i = 0; i < 100 && !wait.done; ++i) {
    int p = lib.process(bus, nullptr);
    if (p < 0) break;
    if (p == 0) lib.wait(bus, 100000);  // 0.1 s at most per round
  }
  if (!wait.done) return "its job did not end within 10 s";
  return wait.result == "done" ? wait.result : "its job ended with " + wait.result;
}

int on_request_stop(sd_bus_message* m, void* userdata, sd_bus_error*);

}  // namespace

std::string unit_object_path(const std::string& unit) {
  std::string path = "/org/freedesktop/systemd1/unit/";
  for (unsigned char c : unit) {
    if (std::isalnum(c) && c < 0x80) {
      path += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "_%02x", c);
      path += hex;
    }
  }
  return path;
}

struct ScopeController::Impl {
  Lib lib;
  sd_bus* bus = nullptr;  // set once the scope exists
  sd_bus_slot* slot = nullptr;
  std::string object;
  bool stop_requested = false;
  void release() {
    if (slot) lib.slot_unref(std::exchange(slot, nullptr));
    if (bus) lib.close(std::exchange(bus, nullptr));
  }
};

namespace {

// RequestStop, from systemd only: any client of the system bus may send a
// signal to our name, so the sender must be root.
int on_request_stop(sd_bus_message* m, void* userdata, sd_bus_error*) {
  auto* ci = static_cast<ScopeController::Impl*>(userdata);
  Lib& lib = ci->lib;
  sd_bus_creds* creds = nullptr;
  uid_t euid = 1;
  const char* path = lib.message_path ? lib.message_path(m) : nullptr;
  if (lib.sender_creds && lib.sender_creds(m, SD_BUS_CREDS_EUID, &creds) >= 0 && creds) {
    if (lib.creds_euid(creds, &euid) < 0) euid = 1;
    lib.creds_unref(creds);
  }
  if (euid == 0 && path && ci->object == path) ci->stop_requested = true;
  return 0;
}

}  // namespace

ScopeController::ScopeController() : impl_(new Impl) {}
ScopeController::~ScopeController() {
  impl_->release();
  delete impl_;
}
int ScopeController::fd() const { return impl_->bus ? impl_->lib.get_fd(impl_->bus) : -1; }
short ScopeController::events() const {
  int e = impl_->bus ? impl_->lib.get_events(impl_->bus) : 0;
  return static_cast<short>(e > 0 ? e : POLLIN);
}
bool ScopeController::process() {
  if (!impl_->bus) return false;
  for (int i = 0; i < 64; ++i) {  // what is queued, not more
    int r = impl_->lib.process(impl_->bus, nullptr);
    if (r < 0) {
      // The bus went away (dbus restarted): no more RequestStop, and no fd
      // left in the poll loop to report its hang-up forever.
      impl_->release();
      break;
    }
    if (r == 0) break;
  }
  return std::exchange(impl_->stop_requested, false);
}


Property allowed_cpus(const std::vector<unsigned>& cpus, const std::string& key) {
  Property p;
  p.name = "AllowedCPUs";
  p.type = 'y';
  p.key = key;
  for (unsigned c : cpus) {
    if (p.s.size() <= c / 8) p.s.resize(c / 8 + 1, '\0');
    p.s[c / 8] = static_cast<char>(static_cast<unsigned char>(p.s[c / 8]) | (1u << (c % 8)));
  }
  return p;
}

Property typed_property(const std::string& name, const std::string& value, const std::string& key) {
  Property p;
  p.name = name;
  p.key = key;
  if (!value.empty() && std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c); }) &&
      value.size() < 20) {
    p.type = 't';
    p.t = std::stoull(value);
  } else if (value == "true" || value == "false") {
    p.type = 'b';
    p.b = value == "true";
  } else {
    p.type = 's';
    p.s = value;
  }
  return p;
}

bool start_scope(const ScopeRequest& r, Failure& f, ScopeController* controller, bool retried) {
  ManagerCall c;
  if (!c.open("StartTransientUnit", true, "register the container with systemd",
              "systemd.register: scope needs systemd's bus", f)) {
    return false;
  }
  Lib& lib = c.lib;
  int rc = 0;
  auto ok = [&](int v) { return v >= 0 ? (rc = v, true) : (rc = v, false); };
  const char* unique = nullptr;
  if (controller) {
    // Watched before the scope exists: a stop can come at once.
    ScopeController::Impl& ci = *controller->impl_;
    ci.lib = lib;  // (the callback may run while the job is waited for)
    ci.object = unit_object_path(r.unit);
    if (lib.unique_name(c.bus, &unique) < 0 || !unique ||
        lib.match_signal(c.bus, &ci.slot, "org.freedesktop.systemd1", ci.object.c_str(),
                         "org.freedesktop.systemd1.Scope", "RequestStop", on_request_stop, &ci) < 0) {
      controller = nullptr;  // no controller: systemd signals the scope's processes itself
      unique = nullptr;
    }
  }
  bool built = ok(lib.append(c.m, "ss", r.unit.c_str(), "fail")) &&
               ok(lib.open_container(c.m, 'a', "(sv)")) &&
               ok(lib.append(c.m, "(sv)", "Description", "s", r.description.c_str())) &&
               ok(lib.append(c.m, "(sv)", "Slice", "s", r.slice.c_str())) &&
               ok(lib.append(c.m, "(sv)", "Delegate", "b", 1)) &&
               ok(lib.append(c.m, "(sv)", "CollectMode", "s", "inactive-or-failed")) &&
               ok(lib.append(c.m, "(sv)", "PIDs", "au", 1, static_cast<uint32_t>(r.pid)));
  if (built && unique) built = ok(lib.append(c.m, "(sv)", "Controller", "s", unique));
  for (const auto& p : r.properties) {
    if (!built) break;
    built = ok(append_property(lib, c.m, p));
  }
  built = built && ok(lib.close_container(c.m)) && ok(lib.append(c.m, "a(sa(sv))", 0));
  if (!built) {
    f = {"build the StartTransientUnit call", -rc, "systemd.register", {}};
    return false;
  }
  if (std::string what; !c.call(what)) {
    // The scope of a SIGKILLed predecessor (the caller holds the name
    // lock, so no ctrun runs in it) that systemd has not collected yet.
    if (!retried && c.error_is("org.freedesktop.systemd1.UnitExists")) {
      Failure stop;
      if (stop_unit(r.unit, stop)) {
        if (controller) controller->impl_->release();
        return start_scope(r, f, controller, true);
      }
    }
    // An unknown or malformed property is the manifest's: systemd names it.
    f = {"start the systemd scope " + r.unit, 0, key_of_error(r.properties, what, "systemd.register"), what};
    return false;
  }
  std::string result = wait_for_job(lib, c.bus, c.reply, c.wait);
  if (result != "done") {
    f = {"start the systemd scope " + r.unit, 0, "systemd.register", result};
    return false;
  }
  if (controller) {
    // The connection whose name is the scope's Controller= stays open.
    ScopeController::Impl& ci = *controller->impl_;
    ci.bus = std::exchange(c.bus, nullptr);
    if (c.slot) lib.slot_unref(std::exchange(c.slot, nullptr));  // (JobRemoved: no longer wanted)
  }
  return true;
}

bool stop_unit(const std::string& unit, Failure& f) {
  ManagerCall c;
  if (!c.open("StopUnit", true, "stop " + unit, {}, f)) return false;
  if (int rc = c.lib.append(c.m, "ss", unit.c_str(), "replace"); rc < 0) {
    return f = {"build the StopUnit call", -rc, "systemd.register", {}}, false;
  }
  if (std::string what; !c.call(what)) {
    // An emptied scope may be collected by systemd before the call arrives:
    // then it is gone already, which is what was asked.
    if (c.error_is("org.freedesktop.systemd1.NoSuchUnit")) return true;
    return f = {"stop " + unit, 0, "systemd.register", what}, false;
  }
  std::string result = wait_for_job(c.lib, c.bus, c.reply, c.wait);
  if (result != "done") return f = {"stop " + unit, 0, "systemd.register", result}, false;
  return true;
}

}  // namespace ctrun::systemd

namespace ctrun::systemd {

bool set_unit_properties(const std::string& unit, const std::vector<Property>& properties, Failure& f) {
  if (properties.empty()) return true;
  ManagerCall c;
  if (!c.open("SetUnitProperties", false, "set the limits on " + unit, "keep-unit sets the limits through systemd's bus",
              f)) {
    return false;
  }
  int rc = 0;
  bool built = (rc = c.lib.append(c.m, "sb", unit.c_str(), 1)) >= 0 && (rc = c.lib.open_container(c.m, 'a', "(sv)")) >= 0;
  for (const auto& p : properties) {
    if (!built) break;
    built = (rc = append_property(c.lib, c.m, p)) >= 0;
  }
  built = built && (rc = c.lib.close_container(c.m)) >= 0;
  if (!built) {
    f = {"build the SetUnitProperties call", -rc, "systemd.register", {}};
    return false;
  }
  if (std::string what; !c.call(what)) {
    f = {"set the limits on " + unit, 0, key_of_error(properties, what, "systemd.register"), what};
    return false;
  }
  return true;
}

std::optional<uint64_t> service_stop_timeout_us(const std::string& unit) {
  ManagerCall c;
  Failure ignored;
  if (!c.open("LoadUnit", false, "load " + unit, {}, ignored)) return std::nullopt;
  std::string what;
  const char* path = nullptr;
  if (c.lib.append(c.m, "s", unit.c_str()) < 0 || !c.call(what) || c.lib.read(c.reply, "o", &path) < 0 || !path) {
    return std::nullopt;
  }
  std::string object = path;  // owned by the reply
  char* state = nullptr;
  sd_bus_error e1 = SD_BUS_ERROR_NULL, e2 = SD_BUS_ERROR_NULL;
  bool loaded = c.lib.get_string(c.bus, "org.freedesktop.systemd1", object.c_str(), "org.freedesktop.systemd1.Unit",
                                 "LoadState", &e1, &state) >= 0 &&
                state && std::strcmp(state, "loaded") == 0;
  free(state);
  c.lib.error_free(&e1);
  uint64_t usec = 0;
  bool got = loaded && c.lib.get_trivial(c.bus, "org.freedesktop.systemd1", object.c_str(),
                                         "org.freedesktop.systemd1.Service", "TimeoutStopUSec", &e2, 't', &usec) >= 0;
  c.lib.error_free(&e2);
  return got ? std::optional<uint64_t>(usec) : std::nullopt;
}

bool register_machine(const MachineRequest& r, Failure& f, bool* unavailable) {
  *unavailable = false;
  ManagerCall c;
  const char* kMachine = "org.freedesktop.machine1";
  if (!c.open("RegisterMachineWithNetwork", false, "register " + r.name + " with systemd-machined",
              "systemd-machined is reached over the system bus", f, "systemd.machine", kMachine,
              "/org/freedesktop/machine1", "org.freedesktop.machine1.Manager")) {
    *unavailable = true;
    return false;
  }
  int rc;
  if ((rc = c.lib.append(c.m, "s", r.name.c_str())) < 0 ||
      (rc = c.lib.append_array(c.m, 'y', r.id.data(), r.id.size())) < 0 ||
      (rc = c.lib.append(c.m, "ssus", "ctrun", "container", static_cast<uint32_t>(r.leader), r.root.c_str())) < 0 ||
      (rc = c.lib.append_array(c.m, 'i', r.ifindices.data(), r.ifindices.size() * sizeof(int32_t))) < 0) {
    return f = {"build the RegisterMachineWithNetwork call", -rc, "systemd.machine", {}}, false;
  }
  std::string what;
  if (!c.call(what)) {
    *unavailable = c.error_is("org.freedesktop.DBus.Error.ServiceUnknown") ||
                   c.error_is("org.freedesktop.DBus.Error.NameHasNoOwner");
    return f = {"register " + r.name + " with systemd-machined", 0, "systemd.machine", what}, false;
  }
  return true;
}

void unregister_machine(const std::string& name) {
  ManagerCall c;
  Failure f;
  if (!c.open("UnregisterMachine", false, "unregister " + name, {}, f, "systemd.machine", "org.freedesktop.machine1",
              "/org/freedesktop/machine1", "org.freedesktop.machine1.Manager")) {
    return;
  }
  std::string what;
  if (c.lib.append(c.m, "s", name.c_str()) < 0 || c.call(what)) return;
  // Gone already (its unit ended first): fine. Anything else leaves a stale
  // machine that the next registration of this name would trip over.
  if (c.error_is("org.freedesktop.machine1.NoSuchMachine")) return;
  std::fprintf(stderr, "ctrun: warning: failed to unregister %s from systemd-machined: %s\n", name.c_str(), what.c_str());
}

}  // namespace ctrun::systemd

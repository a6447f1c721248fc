#include "systemd/scope.h"

#include <dlfcn.h>
#include <systemd/sd-bus.h>

#include <algorithm>
#include <cctype>
#include <cstring>

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
           sym(process, "sd_bus_process") && sym(wait, "sd_bus_wait") && sym(slot_unref, "sd_bus_slot_unref");
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

}  // namespace

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

bool start_scope(const ScopeRequest& r, Failure& f) {
  Lib lib;
  if (!lib.load()) {
    f = {"register the container with systemd", 0, "systemd.register", "libsystemd.so.0 cannot be loaded"};
    return false;
  }
  sd_bus* bus = nullptr;
  if (int rc = lib.open_system(&bus); rc < 0) {
    f = {"connect to the system bus", -rc, "systemd.register", "systemd.register: scope needs systemd's bus"};
    return false;
  }
  struct Cleanup {
    Lib& lib;
    sd_bus* bus;
    sd_bus_message* m = nullptr;
    sd_bus_message* reply = nullptr;
    sd_bus_slot* slot = nullptr;
    sd_bus_error error = SD_BUS_ERROR_NULL;
    ~Cleanup() {
      if (slot) lib.slot_unref(slot);
      if (m) lib.message_unref(m);
      if (reply) lib.message_unref(reply);
      lib.error_free(&error);
      lib.close(bus);
    }
  } c{lib, bus};

  JobWait wait;
  wait.read = lib.read;
  // Subscribed before the call, so that the job's end cannot slip by.
  lib.match_signal(bus, &c.slot, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                   "org.freedesktop.systemd1.Manager", "JobRemoved", on_job_removed, &wait);
  int rc = lib.new_call(bus, &c.m, "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                        "org.freedesktop.systemd1.Manager", "StartTransientUnit");
  auto ok = [&](int v) { return v >= 0 ? (rc = v, true) : (rc = v, false); };
  bool built = ok(rc) && ok(lib.append(c.m, "ss", r.unit.c_str(), "fail")) &&
               ok(lib.open_container(c.m, 'a', "(sv)")) &&
               ok(lib.append(c.m, "(sv)", "Description", "s", r.description.c_str())) &&
               ok(lib.append(c.m, "(sv)", "Slice", "s", r.slice.c_str())) &&
               ok(lib.append(c.m, "(sv)", "Delegate", "b", 1)) &&
               ok(lib.append(c.m, "(sv)", "CollectMode", "s", "inactive-or-failed")) &&
               ok(lib.append(c.m, "(sv)", "PIDs", "au", 1, static_cast<uint32_t>(r.pid)));
  for (const auto& p : r.properties) {
    if (!built) break;
    if (p.type == 't') built = ok(lib.append(c.m, "(sv)", p.name.c_str(), "t", p.t));
    else if (p.type == 'b') built = ok(lib.append(c.m, "(sv)", p.name.c_str(), "b", p.b ? 1 : 0));
    else built = ok(lib.append(c.m, "(sv)", p.name.c_str(), "s", p.s.c_str()));
  }
  built = built && ok(lib.close_container(c.m)) && ok(lib.append(c.m, "a(sa(sv))", 0));
  if (!built) {
    f = {"build the StartTransientUnit call", -rc, "systemd.register", {}};
    return false;
  }
  if (int call_rc = lib.call(bus, c.m, 0, &c.error, &c.reply); call_rc < 0) {
    std::string what = c.error.message ? c.error.message : std::strerror(-call_rc);
    // An unknown or malformed property is the manifest's: systemd names it.
    std::string key = "systemd.register";
    for (const auto& p : r.properties) {
      if (what.find(p.name) != std::string::npos) key = p.key;
    }
    f = {"start the systemd scope " + r.unit, 0, key, what};
    return false;
  }
  const char* job = nullptr;
  if (lib.read(c.reply, "o", &job) < 0 || !job) {
    f = {"start the systemd scope " + r.unit, EPROTO, "systemd.register", "no job in systemd's answer"};
    return false;
  }
  wait.path = job;
  for (int i = 0; i < 100 && !wait.done; ++i) {
    int p = lib.process(bus, nullptr);
    if (p < 0) break;
    if (p == 0) lib.wait(bus, 100000);  // 0.1 s at most per round, 10 s in all
  }
  if (!wait.done || wait.result != "done") {
    f = {"start the systemd scope " + r.unit, 0, "systemd.register",
         wait.done ? "its job ended with " + wait.result : "its job did not end within 10 s"};
    return false;
  }
  return true;
}

}  // namespace ctrun::systemd

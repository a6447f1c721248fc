#include "plan/plan.h"

#include <sched.h>
#include <sys/mount.h>
#include <sys/sysmacros.h>
#include <linux/capability.h>
#include <linux/if_link.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>

#include "base/signals.h"
#include "base/text.h"
#include "base/units.h"
#include "caps/names.h"
#include "net/config.h"

namespace ctrun::plan {

std::optional<uint32_t> host_of_root(const std::vector<manifest::IdRange>& map) {
  for (const auto& r : map) {
    if (r.inside == 0 && r.count > 0) return r.outside;
  }
  return std::nullopt;
}

namespace {

using manifest::Manifest;
using manifest::NamespaceMode;
using manifest::SourceMap;

constexpr uint64_t kNoSuidDevExec = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;

// Keys of the contract whose executor lands in a later version: given with a
// value other than the default, they are refused, never silently ignored.
void refuse_unsupported(const Manifest& m, const SourceMap& locs, Diagnostics& diags) {
  auto refuse = [&](const std::string& key, const std::string& what) {
    diags.error(locs.at(key), key, "not supported yet: this version of ctrun " + what);
  };
  if (m.namespaces.user.mode == NamespaceMode::Mode::join && m.boot) {
    refuse("namespaces.user", "boots no init system in a joined user namespace");
  }
  using manifest::Register;
  if (!m.systemd.properties.empty() && m.systemd.register_ != Register::scope &&
      m.systemd.register_ != Register::keep_unit) {
    refuse("systemd.properties", "passes unit properties only with systemd.register: scope or keep-unit");
  }
}

// What a new user namespace cannot be combined with: the namespaces it
// would have to administer but does not own.
void check_userns(const Manifest& m, const SourceMap& locs, Diagnostics& diags) {
  if (m.namespaces.user.mode != NamespaceMode::Mode::create) return;
  auto error = [&](const std::string& key, const std::string& msg) { diags.error(locs.at(key), key, msg); };
  if (m.namespaces.pid.mode != NamespaceMode::Mode::create) {
    error("namespaces.pid", "must be true with namespaces.user: only the owner of a pid namespace mounts its /proc");
  }
  const std::pair<const char*, const NamespaceMode*> others[] = {
      {"uts", &m.namespaces.uts}, {"ipc", &m.namespaces.ipc},       {"net", &m.namespaces.net},
      {"cgroup", &m.namespaces.cgroup}, {"time", &m.namespaces.time}};
  for (const auto& [ns, mode] : others) {
    if (mode->mode == NamespaceMode::Mode::join) {
      error(std::string("namespaces.") + ns,
            "cannot be joined together with a new user namespace (its root would not own it): not supported yet");
    }
  }
}

void add_namespaces(const Manifest& m, LaunchPlan& p) {
  struct Ns {
    const NamespaceMode& mode;
    int flag;
    const char* name;
  };
  const Ns all[] = {
      {m.namespaces.pid, CLONE_NEWPID, "pid"},       {m.namespaces.uts, CLONE_NEWUTS, "uts"},
      {m.namespaces.ipc, CLONE_NEWIPC, "ipc"},       {m.namespaces.net, CLONE_NEWNET, "net"},
      {m.namespaces.cgroup, CLONE_NEWCGROUP, "cgroup"}, {m.namespaces.time, CLONE_NEWTIME, "time"},
  };
  p.clone_flags = CLONE_NEWNS;
  if (m.namespaces.user.mode == NamespaceMode::Mode::create) {
    p.clone_flags |= CLONE_NEWUSER;
    p.userns.create = true;
    p.userns.uid_map = m.user_namespace.uid_map;
    p.userns.gid_map = m.user_namespace.gid_map;
    p.userns.root_uid = host_of_root(p.userns.uid_map).value_or(0);
    p.userns.root_gid = host_of_root(p.userns.gid_map).value_or(0);
  }
  // A joined user namespace comes first: the child is made in it (by a
  // helper that joins it), so that the namespaces created with it are its.
  if (m.namespaces.user.mode == NamespaceMode::Mode::join) {
    p.userns.joined = true;
    p.joins.push_back({CLONE_NEWUSER, "user", m.namespaces.user.path, "namespaces.user"});
  }
  for (const auto& ns : all) {
    if (ns.mode.mode == NamespaceMode::Mode::create) p.clone_flags |= ns.flag;
    if (ns.mode.mode == NamespaceMode::Mode::join) {
      p.joins.push_back({ns.flag, ns.name, ns.mode.path, std::string("namespaces.") + ns.name});
    }
  }
}

MountStep step(MountStep::Kind kind, std::string target) {
  MountStep s;
  s.kind = kind;
  s.target = std::move(target);
  return s;
}

MountStep fs(std::string type, std::string target, std::string data, uint64_t attrs) {
  MountStep s = step(MountStep::Kind::fs, std::move(target));
  s.source = std::move(type);
  s.data = std::move(data);
  s.attrs = attrs;
  return s;
}

void add_rootfs_host(const HostFacts& host, LaunchPlan& p) {
  // A throwaway root: the host's /usr read-only on an empty tmpfs, the
  // merged-/usr links, and just enough of /etc for a shell and id lookups.
  auto dir = [&](const char* path, uint32_t mode) {
    MountStep s = step(MountStep::Kind::mkdir, path);
    s.mode = mode;
    p.mounts.push_back(s);
  };
  dir("/usr", 0755);
  MountStep usr = step(MountStep::Kind::bind, "/usr");
  usr.source = "/usr";
  usr.attrs = MOUNT_ATTR_RDONLY;
  usr.key = "rootfs.host";
  p.mounts.push_back(usr);
  for (const auto& [link, target] : host.usr_links) {
    MountStep s = step(MountStep::Kind::symlink, "/" + link);
    s.source = target;
    p.mounts.push_back(s);
  }
  for (const char* d : {"/etc", "/root", "/home", "/var", "/mnt"}) dir(d, 0755);
  dir("/tmp", 01777);
  dir("/var/tmp", 01777);
  auto file = [&](const char* path, std::string content) {
    MountStep s = step(MountStep::Kind::file, path);
    s.data = std::move(content);
    s.mode = 0644;
    p.mounts.push_back(s);
  };
  file("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
  file("/etc/group", "root:x:0:\ntty:x:5:\nnogroup:x:65534:\n");
  file("/etc/hostname", (p.hostname.empty() ? p.name : p.hostname) + "\n");
  file("/etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
  file("/etc/nsswitch.conf", "passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n");
  if (!host.os_release.empty()) {
    MountStep s = step(MountStep::Kind::symlink, "/etc/os-release");
    s.source = "../" + host.os_release.substr(1);
    p.mounts.push_back(s);
  }
}

void add_dev(const LaunchPlan& lp, std::vector<MountStep>& out) {
  MountStep dev = fs("tmpfs", "/dev", "mode=755,size=4m,nr_inodes=1024", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC);
  dev.api = true;
  out.push_back(dev);
  struct Node {
    const char* name;
    unsigned major, minor;
  };
  for (const Node& n : {Node{"null", 1, 3}, Node{"zero", 1, 5}, Node{"full", 1, 7}, Node{"random", 1, 8},
                        Node{"urandom", 1, 9}, Node{"tty", 5, 0}}) {
    std::string path = std::string("/dev/") + n.name;
    if (lp.userns.active()) {
      // No mknod in a user namespace: the host's node, bound.
      MountStep s = step(MountStep::Kind::bind, path);
      s.source = path;
      s.attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC;
      out.push_back(s);
      continue;
    }
    MountStep s = step(MountStep::Kind::mknod, path);
    s.mode = 0666;
    s.dev = makedev(n.major, n.minor);
    out.push_back(s);
  }
  MountStep pts = step(MountStep::Kind::mkdir, "/dev/pts");
  pts.mode = 0755;
  out.push_back(pts);
  // A private devpts instance: the container sees only its own ptys, and the
  // console is one of them (a pty of the host would leak the host's devpts).
  out.push_back(fs("devpts", "/dev/pts", "newinstance,ptmxmode=0666,mode=620,gid=5", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC));
  auto link = [&](const char* path, const char* target) {
    MountStep s = step(MountStep::Kind::symlink, path);
    s.source = target;
    out.push_back(s);
  };
  link("/dev/ptmx", "pts/ptmx");
  MountStep shm = step(MountStep::Kind::mkdir, "/dev/shm");
  shm.mode = 01777;
  out.push_back(shm);
  out.push_back(fs("tmpfs", "/dev/shm", "mode=1777", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV));
  if (lp.clone_flags & CLONE_NEWIPC) {
    MountStep mq = step(MountStep::Kind::mkdir, "/dev/mqueue");
    mq.mode = 0755;
    out.push_back(mq);
    out.push_back(fs("mqueue", "/dev/mqueue", "", kNoSuidDevExec));
  }
  link("/dev/fd", "/proc/self/fd");
  link("/dev/stdin", "/proc/self/fd/0");
  link("/dev/stdout", "/proc/self/fd/1");
  link("/dev/stderr", "/proc/self/fd/2");
  if (lp.terminal) {
    // The console is bound to the container's pty by the init step.
    MountStep console = step(MountStep::Kind::file, "/dev/console");
    console.mode = 0600;
    out.push_back(console);
  }
}

// Masked and read-only paths (design.md section 5): what moby and nspawn hide
// from containers, because it is not namespaced and can hurt the host.
void add_protection(const LaunchPlan& lp, std::vector<MountStep>& out) {
  for (const char* path : {"/proc/kcore", "/proc/keys", "/proc/kmsg", "/proc/timer_list", "/proc/sched_debug",
                           "/proc/latency_stats", "/proc/timer_stats", "/proc/kallsyms", "/proc/interrupts",
                           "/proc/sysrq-trigger", "/proc/acpi", "/proc/asound", "/proc/scsi", "/proc/apm",
                           "/sys/firmware", "/sys/devices/virtual/powercap"}) {
    MountStep s = step(MountStep::Kind::mask, path);
    s.optional = true;  // not every kernel has every one of them
    out.push_back(s);
  }
  // /proc/sys/net belongs to the container's own network namespace: it stays
  // writable there, as in nspawn, so that sysctls such as ip_forward work.
  if (lp.clone_flags & CLONE_NEWNET) {
    MountStep s = step(MountStep::Kind::bind_rw, "/proc/sys/net");
    s.optional = true;
    out.push_back(s);
  }
  for (const char* path : {"/proc/sys", "/proc/bus", "/proc/fs", "/proc/irq"}) {
    MountStep s = step(MountStep::Kind::readonly, path);
    s.optional = true;
    out.push_back(s);
  }
}

std::string tmpfs_options(const manifest::Mount& m) {
  std::string data = "mode=" + format_octal(m.mode.value_or(0755));
  if (m.size && !m.size->is_max) data += ",size=" + std::to_string(m.size->bytes);
  return data;
}

void add_user_mounts(const Manifest& m, std::vector<MountStep>& out, const SourceMap& locs, Diagnostics& diags) {
  for (size_t i = 0; i < m.mounts.size(); ++i) {
    const auto& mnt = m.mounts[i];
    const std::string key = "mounts[" + std::to_string(i) + "]";
    MountStep s;
    s.target = mnt.target;
    s.key = key;
    switch (mnt.type) {
      case manifest::MountType::bind:
        s.kind = MountStep::Kind::bind;
        s.source = mnt.source;
        if (mnt.readonly) s.attrs = MOUNT_ATTR_RDONLY;
        break;
      case manifest::MountType::tmpfs:
        s = fs("tmpfs", mnt.target, tmpfs_options(mnt), MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
        s.key = key;
        if (mnt.readonly) s.attrs |= MOUNT_ATTR_RDONLY;
        break;
      case manifest::MountType::overlay: {
        s.kind = MountStep::Kind::overlay;
        // overlayfs splits its options at ',' and its lower layers at ':'.
        std::vector<std::string> paths = mnt.lower;
        if (!mnt.upper.empty()) paths.push_back(mnt.upper);
        if (!mnt.work.empty()) paths.push_back(mnt.work);
        for (const auto& path : paths) {
          if (path.find_first_of(",:\\") != std::string::npos) {
            diags.error(locs.at(key), key, "overlay paths cannot contain ',', ':' or '\\': " + quoted(path));
          }
        }
        s.data = "lowerdir=" + join(mnt.lower, ":");
        if (!mnt.upper.empty()) s.data += ",upperdir=" + mnt.upper + ",workdir=" + mnt.work;
        if (mnt.readonly) s.attrs = MOUNT_ATTR_RDONLY;
        break;
      }
    }
    out.push_back(s);
  }
}

// Defaults (Docker's 14, or nspawn's set with boot) limited to what ctrun
// itself holds, plus add, minus drop. An added capability that ctrun does
// not hold is an error: the container would silently lack it.
caps::Grant build_caps(const Manifest& m, const SourceMap& locs, const HostFacts& host, Diagnostics& diags) {
  caps::Grant g;
  caps::CapSet base = (m.boot ? caps::boot_default() : caps::app_default()) & host.bounding;
  caps::CapSet add = 0, drop = 0;
  for (size_t i = 0; i < m.capabilities.add.size(); ++i) {
    int cap = m.capabilities.add[i];
    if (!caps::has(host.bounding, cap)) {
      std::string key = "capabilities.add[" + std::to_string(i) + "]";
      diags.error(locs.at(key), key,
                  caps::capability_name(cap) + " is not in ctrun's own bounding set on this host, so no container "
                  "can have it");
      continue;
    }
    add |= caps::bit(cap);
  }
  for (int cap : m.capabilities.drop) drop |= caps::bit(cap);
  g.bounding = (base | add) & ~drop;
  g.ambient = add & g.bounding;
  return g;
}

std::vector<std::string> build_env(const Manifest& m, const HostFacts& host, bool terminal, std::string& path_var) {
  std::map<std::string, std::string> env = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"TERM", terminal ? (host.term.empty() ? "xterm" : host.term) : "dumb"},
      {"container", "ctrun"},
  };
  // HOME comes from the user's passwd entry at run time unless given here.
  for (const auto& [k, v] : m.process.env) env[k] = v;
  path_var = env["PATH"];
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

// PID 1's environment in boot mode, exactly (systemd's container
// interface): nothing of ctrun's own, TERM only with an interactive console.
std::vector<std::string> boot_env(const Manifest& m, const HostFacts& host, const LaunchPlan& p, std::string& path_var) {
  std::vector<std::pair<std::string, std::string>> env = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"container", "ctrun"},
      {"HOME", "/root"},
      {"USER", "root"},
      {"LOGNAME", "root"},
  };
  if (p.interactive) env.emplace_back("TERM", host.term.empty() ? "xterm" : host.term);
  env.emplace_back("container_uuid", p.container_uuid);
  if (p.notify.guest_socket) env.emplace_back("NOTIFY_SOCKET", NotifyPlan::kGuestSocket);
  for (const auto& [k, v] : host.guest.host_os) {
    std::string name = "container_host_" + k;
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    env.emplace_back(name, v);
  }
  for (const auto& kv : m.process.env) {
    auto same = std::find_if(env.begin(), env.end(), [&](const auto& e) { return e.first == kv.first; });
    if (same != env.end()) same->second = kv.second;
    else env.push_back(kv);
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : env) {
    if (k == "PATH") path_var = v;
    out.push_back(k + "=" + v);
  }
  return out;
}

// init.cgroup, resolved against the host and the guest's systemd: what
// /sys/fs/cgroup will be for PID 1. An impossible combination is an error.
void resolve_boot_cgroup(const Manifest& m, const SourceMap& locs, const HostFacts& host, BootPlan& b,
                         Diagnostics& diags) {
  using cgroup::Host;
  using manifest::InitCgroup;
  using C = BootPlan::Cgroup;
  const Host& h = host.cgroups;
  int v = host.guest.systemd_version;
  std::string guest = v ? "systemd " + std::to_string(v) : "no systemd";
  auto error = [&](const std::string& why) {
    diags.error(locs.at(locs.has("init.cgroup") ? "init.cgroup" : "boot"), "init.cgroup", why);
  };
  bool has_systemd_v1 = h.v1.count("name=systemd") != 0;
  switch (m.init.cgroup) {
    case InitCgroup::auto_:
      if (h.mode == Host::Mode::unified) {
        b.cgroup = C::unified;
        b.cgroup_why = "the host runs cgroup v2";
      } else if (h.mode == Host::Mode::hybrid) {
        b.cgroup = v == 0 || v >= 256 ? C::unified : v >= 233 ? C::hybrid : C::legacy;
        b.cgroup_why = "hybrid host, guest has " + guest;
      } else if (h.mode == Host::Mode::legacy) {
        b.cgroup = C::legacy;
        b.cgroup_why = "legacy host";
        if (v >= 256) error("the host runs cgroup v1 only, and the guest's systemd " + std::to_string(v) + " needs cgroup v2");
      } else {
        error("this host has no cgroup file system mounted");
      }
      break;
    case InitCgroup::unified:
      b.cgroup = C::unified;
      if (h.unified.empty()) error("unified needs a cgroup2 hierarchy, which this host does not have");
      break;
    case InitCgroup::hybrid:
      b.cgroup = C::hybrid;
      if (h.mode != Host::Mode::hybrid) {
        error("hybrid needs a host with both cgroup v1 controllers and cgroup2; this host runs " +
              std::string(cgroup::mode_name(h.mode)));
      }
      break;
    case InitCgroup::legacy:
      b.cgroup = C::legacy;
      if (h.mode != Host::Mode::hybrid && h.mode != Host::Mode::legacy) {
        error("legacy needs cgroup v1 controllers, which this host does not have");
      }
      break;
  }
  if ((b.cgroup == C::hybrid || b.cgroup == C::legacy) && !has_systemd_v1 && h.mode != Host::Mode::unified) {
    error(std::string(b.cgroup == C::hybrid ? "hybrid" : "legacy") +
          " needs the host's name=systemd hierarchy, which is not mounted");
  }
}

// /sys/fs/cgroup for PID 1. Unified: the container's cgroup2 subtree,
// writable (its cgroup namespace is rooted at payload/, below the limits).
// Hybrid and legacy, as nspawn: a read-only tmpfs holding every v1
// hierarchy read-only but name=systemd (and, hybrid, cgroup2 at unified),
// which systemd writes.
void add_boot_cgroupfs(const HostFacts& host, const BootPlan& b, std::vector<MountStep>& out) {
  if (b.cgroup == BootPlan::Cgroup::unified) {
    out.push_back(fs("cgroup2", "/sys/fs/cgroup", "", kNoSuidDevExec));
    return;
  }
  out.push_back(fs("tmpfs", "/sys/fs/cgroup", "mode=755,size=64k", kNoSuidDevExec));
  std::map<std::string, std::vector<std::string>> by_point;  // mount point -> its controllers
  for (const auto& [name, point] : host.cgroups.v1) by_point[point].push_back(name);
  for (const auto& [point, names] : by_point) {
    std::string dir = point.substr(point.find_last_of('/') + 1);
    bool named = names.size() == 1 && names[0].rfind("name=", 0) == 0;
    MountStep d = step(MountStep::Kind::mkdir, "/sys/fs/cgroup/" + dir);
    d.mode = 0755;
    out.push_back(d);
    std::string data = named ? "none," + names[0] : join(names, ",");
    uint64_t attrs = kNoSuidDevExec | (names[0] == "name=systemd" ? 0 : MOUNT_ATTR_RDONLY);
    out.push_back(fs("cgroup", "/sys/fs/cgroup/" + dir, data, attrs));
    // cpu -> cpu,cpuacct where controllers share a hierarchy
    if (names.size() > 1) {
      for (const auto& n : names) {
        if (n == dir) continue;
        MountStep l = step(MountStep::Kind::symlink, "/sys/fs/cgroup/" + n);
        l.source = dir;
        out.push_back(l);
      }
    }
  }
  if (b.cgroup == BootPlan::Cgroup::hybrid) {
    MountStep d = step(MountStep::Kind::mkdir, "/sys/fs/cgroup/unified");
    d.mode = 0755;
    out.push_back(d);
    out.push_back(fs("cgroup2", "/sys/fs/cgroup/unified", "", kNoSuidDevExec));
  }
  out.push_back(step(MountStep::Kind::seal, "/sys/fs/cgroup"));
}

// /run/host (systemd's container interface, both modes): who runs the
// container, its UUID, the host's os-release; the notify socket joins it
// later, then the child makes it read-only. App containers also get
// /run/systemd/container, which a booted systemd writes itself.
void add_run_host(const HostFacts& host, const LaunchPlan& p, std::vector<MountStep>& out) {
  MountStep dir = step(MountStep::Kind::mkdir, "/run/host");
  dir.mode = 0755;
  out.push_back(dir);
  auto file = [&](const char* path, std::string content) {
    MountStep s = step(MountStep::Kind::file, path);
    s.data = std::move(content);
    s.mode = 0444;
    out.push_back(s);
  };
  file("/run/host/container-manager", "ctrun\n");
  file("/run/host/container-uuid", p.container_uuid + "\n");
  if (!host.os_release.empty()) {
    MountStep os = step(MountStep::Kind::bind, "/run/host/os-release");
    os.source = host.os_release;
    os.attrs = MOUNT_ATTR_RDONLY | kNoSuidDevExec;
    out.push_back(os);
  }
  if (!p.boot.enabled) {
    MountStep sd = step(MountStep::Kind::mkdir, "/run/systemd");
    sd.mode = 0755;
    out.push_back(sd);
    file("/run/systemd/container", "ctrun\n");
  }
}

}  // namespace

// init.link_journal, as systemd-nspawn's --link-journal: host binds the
// host's /var/log/journal/ID into the guest, guest links it from the host to
// the guest's; the try- forms and auto link nothing where that cannot be
// done, host and guest are errors there. auto binds the host's directory
// when one exists (so that a guest linked with host once stays linked).
static void resolve_link_journal(const Manifest& m, const SourceMap& locs, const HostFacts& host, LaunchPlan& p,
                          Diagnostics& diags) {
  using LJ = manifest::LinkJournal;
  using J = BootPlan::Journal;
  BootPlan& b = p.boot;
  const GuestFacts& g = host.guest;
  LJ want = m.init.link_journal;
  if (want == LJ::no) return;
  bool strict = want == LJ::host || want == LJ::guest;
  std::string id = b.uuid;
  std::erase(id, '-');
  std::string entry_path = "/var/log/journal/" + id;
  auto refuse = [&](const std::string& why) {
    if (strict) diags.error(locs.at("init.link_journal"), "init.link_journal", why);
  };
  if (b.uuid_source == "random") {
    return refuse("needs a fixed machine ID: the rootfs has no /etc/machine-id and init.machine_id is not set");
  }
  if (want == LJ::auto_) {
    if (g.journal_entry == "dir") want = LJ::host;
    else return;
  }
  if (!g.host_journal) return refuse("the host has no /var/log/journal (no persistent journal)");
  b.journal_host = entry_path;
  b.journal_guest = p.root.path + entry_path;
  if (want == LJ::host || want == LJ::try_host) {
    if (g.journal_entry.rfind("link ", 0) == 0) {
      return refuse(entry_path + " on the host is a symbolic link (linked with guest before)");
    }
    if (g.journal_entry == "other") return refuse(entry_path + " on the host is not a directory");
    b.journal = J::host;
    return;
  }
  if (p.root.kind != RootPlan::Kind::bind) return refuse("guest needs the guest's own tree: the rootfs is ephemeral");
  if (p.root.readonly) return refuse("guest needs a writable rootfs (rootfs.readonly is true)");
  if (!g.guest_journal) return refuse("the rootfs has no /var/log/journal (no persistent journal)");
  if (g.journal_entry == "dir" || g.journal_entry == "other") {
    return refuse(entry_path + " exists on the host and is not a link to the guest's");
  }
  if (!g.journal_entry.empty() && g.journal_entry != "link " + b.journal_guest) {
    return refuse(entry_path + " on the host links elsewhere (" + g.journal_entry.substr(5) + ")");
  }
  b.journal = J::guest;
}

// The container's cgroups: always (the device allowlist, the OOM count and
// a clean end need them), with the limits in the host's dialect.
void add_cgroups(const Manifest& m, const SourceMap& locs, const HostFacts& host, LaunchPlan& p, Diagnostics& diags) {
  using cgroup::Host;
  p.cgroup_host = host.cgroups;
  cgroup::Plan& c = p.cgroups;
  if (host.cgroups.mode == Host::Mode::none) {
    if (auto k = std::string("resources"); locs.has(k)) {
      diags.error(locs.at(k), k, "this host has no cgroup file system mounted");
    }
    return;
  }
  c.enabled = true;
  c.slice = m.systemd.slice;
  c.scope = "ctrun-" + m.name + ".scope";
  c.boot = m.boot;
  // A booted guest in a user namespace manages its own tree below payload/:
  // delegated to its root (the directory and its cgroup.procs, .threads and
  // .subtree_control chowned, as the kernel's delegation model has it).
  if (m.boot && p.userns.create) {
    c.delegate_uid = static_cast<int64_t>(p.userns.root_uid);
    c.delegate_gid = static_cast<int64_t>(p.userns.root_gid);
  }
  c.v2 = host.cgroups.mode == Host::Mode::unified;
  if (c.v2) {
    c.settings = cgroup::v2_settings(m.resources);
  } else {
    std::vector<std::string> unsupported;
    c.settings = cgroup::v1_settings(m.resources, unsupported);
    for (const auto& k : unsupported) {
      std::string why = k == "resources.memory.high"
                            ? "has no cgroup v1 equivalent (this host runs cgroup v1)"
                            : "needs resources.memory.max on cgroup v1 (which limits memory and swap together)";
      diags.error(locs.at(k), k, why);
    }
  }
  using manifest::Register;
  Register reg = m.systemd.register_;
  if (reg == Register::auto_) {
    // keep-unit when systemd started ctrun as a service, a scope when
    // systemd's bus is there, the cgroup file system otherwise.
    if (!host.own_unit.empty()) reg = Register::keep_unit;
    else if (host.system_bus) reg = Register::scope;
    else reg = Register::none;
  }
  if (reg == Register::keep_unit && host.own_unit.empty()) {
    diags.error(locs.at("systemd.register"), "systemd.register",
                "keep-unit needs ctrun started by a systemd service as its only process (ExecStart=ctrun ..., "
                "Delegate=yes; see units/ctrun@.service)");
  }
  if (reg == Register::scope || reg == Register::keep_unit) {
    // systemd applies the limits as unit properties. On cgroup v1 it maps
    // them to v1 files itself, but manages neither memsw nor cpuset there:
    // ctrun writes those (on the scope's memory cgroup, and on the cpuset
    // path it makes beside systemd's, as systemd's delegation rules ask).
    c.systemd_scope = true;
    for (auto& s : c.settings) {
      s.by_systemd = c.v2 || (s.key != "resources.memory.swap_max" && s.key != "resources.cpu.cpuset");
    }
    p.systemd_scope = reg == Register::scope;
    p.keep_unit = reg == Register::keep_unit;
    p.scope.unit = p.keep_unit ? host.own_unit : c.scope;
    p.scope.slice = c.slice;
    p.scope.description = "ctrun container " + m.name;
    using systemd::Property;
    constexpr uint64_t kInfinity = UINT64_MAX;
    auto add = [&](const char* name, uint64_t v, const char* key) {
      Property prop;
      prop.name = name;
      prop.type = 't';
      prop.t = v;
      prop.key = key;
      p.scope.properties.push_back(prop);
    };
    const auto& r = m.resources;
    auto bytes = [&](const Size& s) { return s.is_max ? kInfinity : s.bytes; };
    if (r.memory_max) add("MemoryMax", bytes(*r.memory_max), "resources.memory.max");
    if (r.memory_high) add("MemoryHigh", bytes(*r.memory_high), "resources.memory.high");
    if (r.memory_swap_max && c.v2) add("MemorySwapMax", bytes(*r.memory_swap_max), "resources.memory.swap_max");
    if (r.cpu_weight) add("CPUWeight", *r.cpu_weight, "resources.cpu.weight");
    if (r.cpu_max) {
      add("CPUQuotaPerSecUSec", r.cpu_max->is_max ? kInfinity : static_cast<uint64_t>(r.cpu_max->cpus * 1e6),
          "resources.cpu.max");
    }
    // ctrun itself (in supervisor/) is one task of the unit: the container
    // keeps the pids.max it asked for.
    if (r.pids_max) add("TasksMax", r.pids_max->is_max ? kInfinity : r.pids_max->value + 1, "resources.pids.max");
    if (r.io_weight) add("IOWeight", *r.io_weight, "resources.io.weight");
    if (!r.cpuset.empty() && c.v2) {
      if (auto cpus = parse_cpu_list(r.cpuset)) p.scope.properties.push_back(systemd::allowed_cpus(*cpus, "resources.cpu.cpuset"));
    }
    // A scope's stop comes to ctrun (Controller=, RequestStop): systemd
    // waits stop.timeout and 10 s for the clean-up before it kills, unless
    // systemd.properties says otherwise.
    if (p.systemd_scope && std::none_of(m.systemd.properties.begin(), m.systemd.properties.end(),
                                        [](const auto& kv) { return kv.first == "TimeoutStopUSec"; })) {
      add("TimeoutStopUSec", m.stop.timeout_us + 10'000'000, "stop.timeout");
    }
    for (const auto& [k, v] : m.systemd.properties) {
      p.scope.properties.push_back(systemd::typed_property(k, v, "systemd.properties." + k));
    }
  }
  c.devices = cgroup::default_devices();
  for (const auto& d : m.devices) c.extra_devices.emplace_back(d.path, d.access);
  if (m.resources.memory_max && !m.resources.memory_max->is_max) {
    c.oom_hint = "memory.max " + format_size(*m.resources.memory_max);
  }
}

// The network keys, resolved: interface names and the link kind's mode.
void add_network(const Manifest& m, LaunchPlan& p) {
  using manifest::NetworkMode;
  const auto& n = m.network;
  NetworkPlan& out = p.network;
  out.mode = n.mode;
  if (!out.active()) return;
  out.address = n.address;
  out.gateway = n.gateway;
  out.host_address = n.host_address;
  out.inner_if = "eth0";
  switch (n.mode) {
    case NetworkMode::bridge:
      out.bridge = n.bridge;
      [[fallthrough]];
    case NetworkMode::veth: out.host_if = net::veth_host_name(m.name); break;
    case NetworkMode::macvlan: {
      static const uint32_t kModes[] = {MACVLAN_MODE_PRIVATE, MACVLAN_MODE_VEPA, MACVLAN_MODE_BRIDGE,
                                        MACVLAN_MODE_PASSTHRU};
      out.kind = "macvlan";
      out.kind_mode = kModes[static_cast<int>(n.macvlan_mode)];
      out.kind_mode_word = manifest::choice_word("network.macvlan_mode", static_cast<int>(n.macvlan_mode));
      out.parent = n.parent;
      break;
    }
    case NetworkMode::ipvlan: {
      static const uint32_t kModes[] = {IPVLAN_MODE_L2, IPVLAN_MODE_L3, IPVLAN_MODE_L3S};
      out.kind = "ipvlan";
      out.kind_mode = kModes[static_cast<int>(n.ipvlan_mode)];
      out.kind_mode_word = manifest::choice_word("network.ipvlan_mode", static_cast<int>(n.ipvlan_mode));
      out.parent = n.parent;
      break;
    }
    case NetworkMode::interface:
      // The interfaces keep their names; the addresses go on the first.
      out.interfaces = n.interfaces;
      out.inner_if = n.interfaces.front();
      break;
    case NetworkMode::none:
    case NetworkMode::host: break;
  }
}

// network.dns and network.hosts: files of ctrun's bound read-only over the
// rootfs's own, which stay untouched underneath.
void add_network_files(const Manifest& m, LaunchPlan& p) {
  auto content = [&](const char* target, std::string data, const char* key) {
    MountStep s = step(MountStep::Kind::content, target);
    s.data = std::move(data);
    s.mode = 0644;
    s.key = key;
    p.mounts.push_back(s);
  };
  if (!m.network.dns.empty()) content("/etc/resolv.conf", net::resolv_conf(m.network.dns), "network.dns");
  if (!m.network.hosts.empty()) {
    std::string own = p.hostname.empty() ? m.name : p.hostname;
    content("/etc/hosts", net::hosts_file(own, m.network.address, m.network.hosts), "network.hosts");
  }
}

// CAP_SYS_ADMIN in the host's user namespace can mount cgroup file systems.
// Without a cgroup namespace such a mount shows the host's whole tree: the
// container could move itself out of its limits and its device list, and on
// cgroup v1 set a release_agent (CVE-2022-0492); so that is refused. With
// one, a v1 hierarchy the host has can still be mounted (rooted at the
// container's own cgroup): the mount guard refuses that too (see
// cgroup/mount_guard.h).
void add_mount_guard(const SourceMap& locs, LaunchPlan& p, Diagnostics& diags) {
  if (!caps::has(p.exec.caps.bounding, CAP_SYS_ADMIN) || p.userns.active() || !p.cgroups.enabled) return;
  if (!(p.clone_flags & CLONE_NEWCGROUP)) {
    diags.error(locs.at("namespaces.cgroup"), "namespaces.cgroup",
                "must be true when the container has CAP_SYS_ADMIN (and no user namespace): it could mount the "
                "host's cgroup tree and leave its limits and device list");
    return;
  }
  p.cgroups.mount_guard = !p.cgroup_host.v1.empty();
}

bool build_plan(const Manifest& m, const SourceMap& locs, const HostFacts& host, LaunchPlan& p, Diagnostics& diags) {
  refuse_unsupported(m, locs, diags);
  check_userns(m, locs, diags);

  p.name = m.name;
  add_namespaces(m, p);
  if (p.clone_flags & CLONE_NEWUTS) p.hostname = m.hostname;
  p.loopback_up = (p.clone_flags & CLONE_NEWNET) != 0;
  add_network(m, p);
  // systemd.notify: auto is exec in app mode, container in boot mode.
  using manifest::Notify;
  using NM = NotifyPlan::Mode;
  switch (m.systemd.notify) {
    case Notify::auto_: p.notify.mode = m.boot ? NM::container : NM::exec; break;
    case Notify::exec: p.notify.mode = NM::exec; break;
    case Notify::container: p.notify.mode = NM::container; break;
    case Notify::none: p.notify.mode = NM::none; break;
  }
  p.notify.upstream = host.notify_socket;
  p.notify.watchdog_usec = p.notify.mode == NM::none ? 0 : host.watchdog_usec;
  p.notify.guest_socket = p.notify.mode == NM::container || m.boot;
  p.terminal = m.process.terminal == manifest::Terminal::yes ||
               (m.process.terminal == manifest::Terminal::auto_ && host.stdin_is_tty);
  p.container_uuid = format_uuid(host.random_id);
  // auto registers where machined can be asked: a system bus (systemd as
  // PID 1); elsewhere it costs nothing.
  switch (m.systemd.machine) {
    case manifest::Machine::yes: p.machine = LaunchPlan::Machine::yes; break;
    case manifest::Machine::auto_: p.machine = host.system_bus ? LaunchPlan::Machine::auto_ : LaunchPlan::Machine::no; break;
    case manifest::Machine::no: p.machine = LaunchPlan::Machine::no; break;
  }
  if (m.boot) {
    // The console is always a pty; it takes the caller's input only from a tty.
    p.terminal = true;
    p.interactive = host.stdin_is_tty && m.process.terminal != manifest::Terminal::no;
    BootPlan& b = p.boot;
    b.enabled = true;
    b.reboot_in_process = !host.under_unit;
    b.init_problem = host.guest.init_problem;
    b.init_status = host.guest.init_status;
    if (host.guest.machine_id && !is_null(*host.guest.machine_id)) {
      p.container_uuid = format_uuid(*host.guest.machine_id);
      b.uuid_source = "rootfs /etc/machine-id";
    } else if (auto id = parse_id128(m.init.machine_id); id && !is_null(*id)) {
      p.container_uuid = format_uuid(*id);
      b.uuid_source = "init.machine_id";
    } else {
      b.uuid_source = "random";
    }
    b.uuid = p.container_uuid;
    resolve_boot_cgroup(m, locs, host, b, diags);
    if (p.userns.create && b.cgroup != BootPlan::Cgroup::unified) {
      // (cgroup v1 hierarchies cannot be mounted in a user namespace)
      diags.error(locs.at("namespaces.user"), "namespaces.user",
                  "boot mode in a user namespace needs cgroup v2 for the guest (init.cgroup: unified, a cgroup v2 "
                  "host): cgroup v1 hierarchies cannot be mounted in a user namespace");
    }
  }
  add_cgroups(m, locs, host, p, diags);
  p.stop_signal = m.stop.signal;
  p.stop_timeout_us = m.stop.timeout_us;
  p.lock_path = p.state_dir + "/" + m.name + ".lock";
  p.container_dir = p.state_dir + "/" + m.name;

  if (m.rootfs.host) {
    p.root.kind = RootPlan::Kind::host;
  } else {
    p.root.kind = m.rootfs.ephemeral ? RootPlan::Kind::ephemeral : RootPlan::Kind::bind;
    p.root.path = m.rootfs.path;
  }
  p.root.readonly = m.rootfs.readonly;
  if (p.boot.enabled) resolve_link_journal(m, locs, host, p, diags);

  // Order: the root's own content, the API filesystems, the user's mounts
  // (which may cover /run or add to /dev), then the masks last so that no
  // user mount can uncover a masked path.
  if (p.root.kind == RootPlan::Kind::host) add_rootfs_host(host, p);
  MountStep proc = fs("proc", "/proc", "", kNoSuidDevExec);
  proc.api = true;
  p.mounts.push_back(proc);
  // sysfs is mounted only by the owner of the network namespace: a user
  // namespace container on the host's network gets the host's /sys, bound
  // read-only. (A joined network namespace: one the joined user namespace
  // owns, or the child could not have joined it.)
  const bool net_joined =
      std::any_of(p.joins.begin(), p.joins.end(), [](const NamespaceJoin& j) { return j.type == CLONE_NEWNET; });
  const bool userns_on_host_net = p.userns.active() && !(p.clone_flags & CLONE_NEWNET) && !net_joined;
  MountStep sys = fs("sysfs", "/sys", "", kNoSuidDevExec | MOUNT_ATTR_RDONLY);
  if (userns_on_host_net) {
    sys = step(MountStep::Kind::bind, "/sys");
    sys.source = "/sys";
    sys.attrs = kNoSuidDevExec | MOUNT_ATTR_RDONLY;
  }
  sys.api = true;
  p.mounts.push_back(sys);
  // On cgroup v2 with a cgroup namespace, /sys/fs/cgroup is the container's
  // own subtree, read-only: it sees its limits and usage, and can change
  // nothing (its limits sit on this very cgroup; see CGROUPS in the man page).
  if (p.boot.enabled) {
    add_boot_cgroupfs(host, p.boot, p.mounts);
    // A fresh boot id per start, as a booted kernel would have.
    MountStep boot_id = step(MountStep::Kind::random_id, "/proc/sys/kernel/random/boot_id");
    boot_id.key = "boot";
    p.mounts.push_back(boot_id);
  } else if (p.cgroups.enabled && p.cgroups.v2 && (p.clone_flags & CLONE_NEWCGROUP) &&
             !userns_on_host_net) {
    p.mounts.push_back(fs("cgroup2", "/sys/fs/cgroup", "", kNoSuidDevExec | MOUNT_ATTR_RDONLY));
  }
  add_dev(p, p.mounts);
  for (size_t i = 0; i < m.devices.size(); ++i) {
    MountStep d = step(MountStep::Kind::device, m.devices[i].path);
    d.source = m.devices[i].path;
    d.data = m.devices[i].access;
    d.key = "devices[" + std::to_string(i) + "].path";
    p.mounts.push_back(d);
  }
  MountStep run = fs("tmpfs", "/run", "mode=755", MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV);
  run.api = true;
  p.mounts.push_back(run);
  add_run_host(host, p, p.mounts);
  if (p.boot.journal == BootPlan::Journal::host) {
    // The host's directory, bound where the guest's journald writes.
    MountStep j = step(MountStep::Kind::bind, p.boot.journal_host);
    j.source = p.boot.journal_host;
    j.attrs = kNoSuidDevExec;
    j.key = "init.link_journal";
    p.mounts.push_back(j);
  } else if (p.boot.journal == BootPlan::Journal::guest) {
    // The guest's own, which the host's link points to.
    MountStep j = step(MountStep::Kind::mkdir, p.boot.journal_host);
    j.mode = 0755;
    j.key = "init.link_journal";
    p.mounts.push_back(j);
  }
  add_user_mounts(m, p.mounts, locs, diags);
  add_network_files(m, p);
  add_protection(p, p.mounts);

  ExecPlan& e = p.exec;
  e.argv = m.process.args;
  if (p.boot.enabled) {
    if (e.argv.empty()) e.argv = {"/sbin/init"};
    e.env = boot_env(m, host, p, e.path_var);
  } else {
    e.env = build_env(m, host, p.terminal, e.path_var);
    if (p.notify.guest_socket) {
      e.env.push_back(std::string("NOTIFY_SOCKET=") + NotifyPlan::kGuestSocket);
      std::sort(e.env.begin(), e.env.end());
    }
  }
  e.cwd = m.process.cwd;
  e.user = m.process.user;
  e.group = m.process.group;
  e.supplementary_groups = m.process.supplementary_groups;
  e.umask = m.process.umask;
  for (const auto& r : m.process.rlimits) e.rlimits.push_back({r.resource, r.name, r.soft, r.hard});
  e.oom_score_adjust = m.process.oom_score_adjust;
  e.no_new_privileges = m.process.no_new_privileges;
  e.caps = build_caps(m, locs, host, diags);
  add_mount_guard(locs, p, diags);
  e.seccomp.enabled = m.seccomp.profile != "unconfined";
  e.seccomp.profile = m.seccomp.profile;
  e.seccomp.allow = m.seccomp.allow;
  e.seccomp.deny = m.seccomp.deny;
  e.seccomp.where = locs.at("seccomp.profile");
  return !diags.has_errors();
}

namespace {

const char* kind_word(MountStep::Kind k) {
  switch (k) {
    case MountStep::Kind::fs: return "mount";
    case MountStep::Kind::bind: return "bind";
    case MountStep::Kind::overlay: return "overlay";
    case MountStep::Kind::mkdir: return "mkdir";
    case MountStep::Kind::mknod: return "mknod";
    case MountStep::Kind::symlink: return "symlink";
    case MountStep::Kind::file: return "file";
    case MountStep::Kind::mask: return "mask";
    case MountStep::Kind::readonly: return "readonly";
    case MountStep::Kind::bind_rw: return "writable";
    case MountStep::Kind::device: return "device";
    case MountStep::Kind::content: return "content";
    case MountStep::Kind::random_id: return "random-id";
    case MountStep::Kind::seal: return "seal";
  }
  return "?";
}

std::string attr_words(uint64_t a) {
  std::vector<std::string> w;
  if (a & MOUNT_ATTR_RDONLY) w.push_back("ro");
  if (a & MOUNT_ATTR_NOSUID) w.push_back("nosuid");
  if (a & MOUNT_ATTR_NODEV) w.push_back("nodev");
  if (a & MOUNT_ATTR_NOEXEC) w.push_back("noexec");
  return join(w, ",");
}

}  // namespace

template <typename Line>
void format_network(const LaunchPlan& p, Line& line) {
  const NetworkPlan& n = p.network;
  if (!n.active()) {
    if (p.loopback_up) line("network: {lo: up}");
    return;
  }
  std::string t = "network: {lo: up, mode: " + manifest::choice_word("network.mode", static_cast<int>(n.mode));
  if (!n.host_if.empty()) t += ", host: " + n.host_if;
  if (!n.bridge.empty()) t += ", bridge: " + n.bridge;
  if (!n.parent.empty()) t += ", " + n.kind + ": {parent: " + n.parent + ", mode: " + n.kind_mode_word + "}";
  if (!n.interfaces.empty()) t += ", interfaces: [" + join(n.interfaces, ", ") + "]";
  t += ", inside: " + n.inner_if;
  std::vector<std::string> a;
  for (const auto& c : n.address) a.push_back(format_cidr(c));
  if (!a.empty()) t += ", address: [" + join(a, ", ") + "]";
  if (n.gateway) t += ", gateway: " + format_ip(*n.gateway);
  if (n.host_address) t += ", host_address: " + format_cidr(*n.host_address);
  line(t + "}");
}

std::string format_plan(const LaunchPlan& p) {
  std::string o = "plan:\n";
  auto line = [&](const std::string& s) { o += "  " + s + "\n"; };
  line("name: " + p.name);
  std::vector<std::string> ns = {"mnt"};
  const std::pair<unsigned long, const char*> flags[] = {{CLONE_NEWUSER, "user"}, {CLONE_NEWPID, "pid"}, {CLONE_NEWUTS, "uts"},
                                                         {CLONE_NEWIPC, "ipc"}, {CLONE_NEWNET, "net"},
                                                         {CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWTIME, "time"}};
  for (const auto& [f, n] : flags) {
    if (p.clone_flags & f) ns.push_back(n);
  }
  line("new_namespaces: [" + join(ns, ", ") + "]");
  for (const auto& j : p.joins) line("join: {" + j.name + ": " + j.path + "}");
  if (p.userns.joined) line("user_namespace: joined (its own maps; the child is made in it)");
  if (p.userns.create) {
    auto map_text = [](const std::vector<manifest::IdRange>& m) {
      std::vector<std::string> parts;
      for (const auto& r : m) {
        parts.push_back(std::to_string(r.inside) + "-" + std::to_string(r.inside + r.count - 1) + ":" +
                        std::to_string(r.outside));
      }
      return "[" + join(parts, ", ") + "]";
    };
    line("user_namespace: {uid_map: " + map_text(p.userns.uid_map) + ", gid_map: " + map_text(p.userns.gid_map) +
         ", root: " + std::to_string(p.userns.root_uid) + ":" + std::to_string(p.userns.root_gid) + "}");
  }
  if (!p.hostname.empty()) line("hostname: " + p.hostname);
  line("lock: " + p.lock_path);
  if (p.cgroups.enabled) {
    std::string t = "cgroups: {host: " + std::string(cgroup::mode_name(p.cgroup_host.mode)) + ", path: " +
                    (p.keep_unit ? "<" + p.scope.unit + ">" : p.cgroups.slice + "/" + p.cgroups.scope);
    if (p.systemd_scope) t += ", systemd: scope";
    if (p.keep_unit) t += ", systemd: keep-unit";
    for (const auto& prop : p.scope.properties) {
      if (prop.type == 't') t += ", " + prop.name + ": " + std::to_string(prop.t);
      else if (prop.type == 'y') t += ", " + prop.name + ": " + std::to_string(prop.s.size()) + " bytes";
      else if (prop.type == 'b') t += ", " + prop.name + (prop.b ? ": true" : ": false");
      else t += ", " + prop.name + ": " + prop.s;
    }
    for (const auto& s : p.cgroups.settings) {
      if (!s.by_systemd) t += ", " + s.files.front() + ": " + s.value;
    }
    if (p.cgroups.mount_guard) t += ", mount_guard: cgroup-v1";
    line(t + "}");
  }
  static const char* kRoot[] = {"bind", "ephemeral", "host"};
  line(std::string("root: {kind: ") + kRoot[static_cast<int>(p.root.kind)] +
       (p.root.path.empty() ? "" : ", path: " + p.root.path) + (p.root.readonly ? ", readonly: true" : "") + "}");
  line("mounts:");
  for (const auto& s : p.mounts) {
    std::string t = "  - " + std::string(kind_word(s.kind)) + " ";
    if (s.kind == MountStep::Kind::fs) t += s.source + " on " + s.target;
    else if (s.kind == MountStep::Kind::symlink) t += s.target + " -> " + s.source;
    else if (!s.source.empty()) t += s.source + " on " + s.target;
    else t += s.target;
    if (!s.data.empty() && s.kind != MountStep::Kind::file && s.kind != MountStep::Kind::content) {
      t += " (" + s.data + ")";
    }
    if (s.kind == MountStep::Kind::content) t += " (" + std::to_string(s.data.size()) + " bytes, from " + s.key + ")";
    if (s.attrs) t += " [" + attr_words(s.attrs) + "]";
    if (s.kind == MountStep::Kind::mknod) t += " " + std::to_string(major(s.dev)) + ":" + std::to_string(minor(s.dev));
    if (s.optional) t += " if present";
    line(t);
  }
  format_network(p, line);
  if (p.notify.mode != NotifyPlan::Mode::none) {
    static const char* kNotify[] = {"none", "exec", "container"};
    line(std::string("notify: {mode: ") + kNotify[static_cast<int>(p.notify.mode)] +
         ", upstream: " + (p.notify.upstream.empty() ? "none" : p.notify.upstream) +
         (p.notify.watchdog_usec ? ", watchdog_usec: " + std::to_string(p.notify.watchdog_usec) : "") + "}");
  }
  line(std::string("terminal: ") + (p.terminal ? (p.interactive ? "true" : "true, output only") : "false"));
  if (p.machine != LaunchPlan::Machine::no) {
    line(std::string("machined: ") + (p.machine == LaunchPlan::Machine::yes ? "yes" : "auto"));
  }
  line("container_uuid: " + p.container_uuid + (p.boot.enabled ? " (" + p.boot.uuid_source + ")" : ""));
  if (p.boot.enabled) {
    static const char* kCg[] = {"unified", "hybrid", "legacy"};
    line(std::string("boot: {init: ") + (p.exec.argv.empty() ? "" : p.exec.argv[0]) +
         ", cgroup: " + kCg[static_cast<int>(p.boot.cgroup)] +
         (p.boot.cgroup_why.empty() ? "" : " (" + p.boot.cgroup_why + ")") +
         ", reboot: " + (p.boot.reboot_in_process ? "boot again" : "exit 133") +
         (p.boot.journal == BootPlan::Journal::host    ? ", journal: host's " + p.boot.journal_host
          : p.boot.journal == BootPlan::Journal::guest ? ", journal: " + p.boot.journal_host + " -> " + p.boot.journal_guest
                                                        : "") +
         (p.boot.init_problem.empty() ? "" : ", problem: " + p.boot.init_problem) + "}");
  }
  line("exec:");
  std::vector<std::string> args;
  for (const auto& a : p.exec.argv) args.push_back(quoted(a));
  line("  args: [" + join(args, ", ") + "]");
  line("  env: [" + join(p.exec.env, ", ") + "]");
  line("  cwd: " + p.exec.cwd);
  line("  user: " + p.exec.user + (p.exec.group.empty() ? "" : ", group: " + p.exec.group));
  if (!p.exec.supplementary_groups.empty()) line("  groups: [" + join(p.exec.supplementary_groups, ", ") + "]");
  line("  umask: " + format_octal(p.exec.umask));
  for (const auto& r : p.exec.rlimits) {
    line("  rlimit: {" + r.name + ": [" + std::to_string(r.soft) + ", " + std::to_string(r.hard) + "]}");
  }
  line("  oom_score_adjust: " + std::to_string(p.exec.oom_score_adjust));
  line(std::string("  no_new_privileges: ") + (p.exec.no_new_privileges ? "true" : "false"));
  auto cap_list = [](caps::CapSet s) { return s ? "[" + caps::format(s) + "]" : std::string("[]"); };
  line("  capabilities: {bounding: " + cap_list(p.exec.caps.bounding) +
       ", ambient_if_not_root: " + cap_list(p.exec.caps.ambient) + "}");
  const SeccompPlan& sc = p.exec.seccomp;
  if (!sc.enabled) {
    line("  seccomp: unconfined");
  } else {
    std::string t = "  seccomp: {profile: " + sc.profile;
    if (!sc.allow.empty()) t += ", allow: [" + join(sc.allow, ", ") + "]";
    if (!sc.deny.empty()) t += ", deny: [" + join(sc.deny, ", ") + "]";
    const auto& c = sc.compiled;
    if (!c.filters.empty()) {
      std::vector<std::string> sizes;
      for (const auto& f : c.filters) sizes.push_back(std::to_string(f.size()));
      t += ", arches: [" + join(c.arches, ", ") + "], rules: " + std::to_string(c.rules) +
           ", syscalls: " + std::to_string(c.syscalls) + ", unknown_names: " + std::to_string(c.unknown_names) +
           ", instructions: [" + join(sizes, ", ") + "]";
    }
    line(t + "}");
  }
  line("stop: {signal: " + signal_name(p.stop_signal) + ", timeout_us: " + std::to_string(p.stop_timeout_us) + "}");
  return o;
}

}  // namespace ctrun::plan

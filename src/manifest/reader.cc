#include "manifest/reader.h"

#include <sys/resource.h>
#include <csignal>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <stdexcept>

#include "base/signals.h"
#include "base/text.h"
#include "caps/names.h"
#include "manifest/schema.h"
#include "manifest/yaml_tree.h"
#include "seccomp/names.h"

namespace ctrun::manifest {
namespace {

using Kind = ctrun::manifest::Kind;
const std::string kCommandLine = "<command line>";

constexpr std::pair<const char*, int> kRlimits[] = {
    {"as", RLIMIT_AS},         {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
    {"data", RLIMIT_DATA},     {"fsize", RLIMIT_FSIZE},       {"locks", RLIMIT_LOCKS},
    {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
    {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC},       {"rss", RLIMIT_RSS},
    {"rtprio", RLIMIT_RTPRIO}, {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
    {"stack", RLIMIT_STACK},
};

bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '.' || s.back() == '.' || s.front() == '-') return false;
  if (s.find("..") != std::string_view::npos) return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  }
  return true;
}

bool is_ifname(std::string_view s) {
  if (s.empty() || s.size() > 15 || s == "." || s == "..") return false;
  for (char c : s) {
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c)) || static_cast<unsigned char>(c) < 0x21)
      return false;
  }
  return true;
}

std::optional<std::string> as_ifname(const std::string& s) {
  return is_ifname(s) ? std::optional(s) : std::nullopt;
}

const std::string kNotIp = "is not an IPv4 or IPv6 address";
const std::string kNotIfname = "is not an interface name (1 to 15 bytes, no '/', ':' or spaces)";

bool is_account_name(std::string_view s) {
  if (s.empty() || s.size() > 32 || s.front() == '-') return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  }
  return true;
}

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

std::vector<std::string> all_key_paths() {
  std::vector<std::string> out;
  for (const auto& k : schema()) out.emplace_back(k.path);
  return out;
}

struct Entry {
  const YamlNode* key;    // the key node (or the list item, for list items)
  const YamlNode* value;  // the value node
};

// Holds the checked tree and reads typed values out of it. Every getter
// checks that the schema gives the key the kind it is read as, so the table
// and this reader cannot drift apart unnoticed.
class Reader {
 public:
  Reader(const std::string& file, const LoadOptions& options, SourceMap& locs, Diagnostics& diags)
      : file_(file), options_(options), locs_(locs), diags_(diags) {}

  void walk(const YamlNode& map, const std::string& path, const std::string& pattern) {
    for (size_t i = 0; i < map.map_size(); ++i) {
      const YamlNode& key = map.key(i);
      const YamlNode& value = map.val(i);
      const std::string full = path.empty() ? key.value : path + "." + key.value;
      const std::string pat = pattern.empty() ? key.value : pattern + "." + key.value;
      const KeyInfo* info = find_key(pat);
      if (info == nullptr) {
        unknown_key(key, full, pattern);
        continue;
      }
      locs_.keys[full] = loc(key);
      entries_[full] = {&key, &value};
      if (info->kind == Kind::section) {
        consumed_.insert(full);
        if (value.is_null()) continue;
        if (value.kind != YamlNode::Kind::map) {
          error(full, "must be a mapping of keys (" + join(child_keys(pat), ", ") + ")");
          continue;
        }
        walk(value, full, pat);
      } else if (info->kind == Kind::object_list) {
        consumed_.insert(full);
        if (value.is_null()) continue;
        if (value.kind != YamlNode::Kind::seq) {
          error(full, "must be a list of mappings");
          continue;
        }
        for (size_t j = 0; j < value.children.size(); ++j) {
          const YamlNode& item = value.children[j];
          const std::string item_path = full + "[" + std::to_string(j) + "]";
          locs_.keys[item_path] = loc(item);
          if (item.kind != YamlNode::Kind::map) {
            diags_.error(loc(item), item_path, "must be a mapping of keys (" + join(child_keys(pat + "[]"), ", ") + ")");
            continue;
          }
          walk(item, item_path, pat + "[]");
        }
      }
    }
  }

  // Items of an object list that are mappings (others were reported by walk).
  size_t list_size(const std::string& path) {
    expect(path, Kind::object_list);
    auto it = entries_.find(path);
    if (it == entries_.end() || it->second.value->kind != YamlNode::Kind::seq) return 0;
    return it->second.value->children.size();
  }
  bool list_item_ok(const std::string& path, size_t i) {
    auto it = entries_.find(path);
    return it != entries_.end() && it->second.value->children[i].kind == YamlNode::Kind::map;
  }
  bool present(const std::string& path) const { return entries_.count(path) != 0; }

  // Verifies that every key the walk accepted was read (a reader bug otherwise).
  void check_all_consumed() {
    for (const auto& [path, entry] : entries_) {
      if (!consumed_.count(path)) {
        diags_.error(loc(*entry.key), path, "internal error: key accepted but not read");
      }
    }
  }

  // ---- typed getters: nothing when absent or wrong (the error is reported) ----

  std::optional<bool> boolean(const std::string& path) {
    auto text = scalar(path, Kind::boolean);
    if (!text) return std::nullopt;
    return to_bool(path, *text, node(path)->plain);
  }

  std::optional<int64_t> integer(const std::string& path) {
    const KeyInfo* info = expect(path, Kind::integer);
    auto text = scalar(path, Kind::integer);
    if (!text) return std::nullopt;
    return to_int(path, *text, info->min, info->max);
  }

  std::optional<std::string> string(const std::string& path, Kind kind) {
    return scalar(path, kind);
  }

  std::optional<std::string> host_path(const std::string& path) {
    auto text = scalar(path, Kind::host_path);
    if (!text) return std::nullopt;
    return to_host_path(path, *text);
  }

  std::optional<std::string> container_path(const std::string& path) {
    auto text = scalar(path, Kind::container_path);
    if (!text) return std::nullopt;
    return to_container_path(path, *text);
  }

  // The common shape of a scalar getter: read the text, parse it, or say
  // `"text" <what>` at the key.
  template <typename F>
  auto parsed(const std::string& path, Kind kind, F parse, std::string_view what) -> decltype(parse(std::string())) {
    auto text = scalar(path, kind);
    if (!text) return std::nullopt;
    auto v = parse(*text);
    if (!v) error(path, quoted(*text) + " " + std::string(what));
    return v;
  }

  std::optional<Size> size(const std::string& path, bool allow_max) {
    return parsed(path, Kind::size, [&](const std::string& t) { return parse_size(t, allow_max); },
                  allow_max ? "is not a size (examples: 512M, 2G, max)" : "is not a size (examples: 512M, 2G)");
  }

  std::optional<uint64_t> duration(const std::string& path) {
    return parsed(path, Kind::duration, [](const std::string& t) { return parse_duration_us(t); },
                  "is not a duration (examples: 10s, 500ms, 2min)");
  }

  std::optional<uint32_t> octal(const std::string& path) {
    const KeyInfo* info = expect(path, Kind::octal);
    auto text = scalar(path, Kind::octal);
    if (!text) return std::nullopt;
    auto v = parse_octal(*text, static_cast<uint32_t>(info->max));
    if (!v) error(path, quoted(*text) + " is not an octal mode from 0000 to " + format_octal(static_cast<uint32_t>(info->max)));
    return v;
  }

  std::optional<int> choice(const std::string& path) {
    const KeyInfo* info = expect(path, Kind::enumeration);
    auto text = scalar(path, Kind::enumeration);
    if (!text) return std::nullopt;
    auto words = split_choices(info->choices);
    for (size_t i = 0; i < words.size(); ++i) {
      if (words[i] == *text) return static_cast<int>(i);
    }
    std::string msg = quoted(*text) + " is not one of " + join(words, ", ");
    if (auto near = closest_match(*text, words); !near.empty()) msg += " (did you mean \"" + near + "\"?)";
    error(path, msg);
    return std::nullopt;
  }

  std::optional<int> signal(const std::string& path) {
    return parsed(path, Kind::signal, [](const std::string& t) { return parse_signal(t); },
                  "is not a signal (examples: SIGTERM, SIGRTMIN+3, 15)");
  }

  std::optional<NamespaceMode> namespace_mode(const std::string& path) {
    auto text = scalar(path, Kind::namespace_mode);
    if (!text) return std::nullopt;
    const YamlNode* n = node(path);
    if (n->plain && (*text == "true" || *text == "false")) {
      return NamespaceMode{*text == "true" ? NamespaceMode::Mode::create : NamespaceMode::Mode::host, {}};
    }
    // A path has a slash (/run/netns/blue, ./ns/net): a bare word is a typo.
    if (text->find('/') == std::string::npos) {
      error(path, quoted(*text) + " is neither true, false nor a path to a namespace");
      return std::nullopt;
    }
    auto p = to_host_path(path, *text);
    if (!p) return std::nullopt;
    return NamespaceMode{NamespaceMode::Mode::join, *p};
  }

  std::optional<Terminal> terminal(const std::string& path) {
    auto text = scalar(path, Kind::terminal);
    if (!text) return std::nullopt;
    if (*text == "auto") return Terminal::auto_;
    if (*text == "true") return Terminal::yes;
    if (*text == "false") return Terminal::no;
    error(path, quoted(*text) + " is not auto, true or false");
    return std::nullopt;
  }

  std::optional<CpuMax> cpu_max(const std::string& path) {
    auto text = scalar(path, Kind::cpu_max);
    if (!text) return std::nullopt;
    if (*text == "max") return CpuMax{true, 0};
    bool syntax = !text->empty() && text->size() <= 16;
    int dots = 0;
    for (char c : *text) {
      if (c == '.') ++dots;
      else if (!std::isdigit(static_cast<unsigned char>(c))) syntax = false;
    }
    if (!syntax || dots > 1 || text->front() == '.' || text->back() == '.') {
      error(path, quoted(*text) + " is not a number of CPUs (examples: 0.5, 1.5, 2, max)");
      return std::nullopt;
    }
    double v = std::strtod(text->c_str(), nullptr);
    if (!(v >= 0.01 && v <= 8192)) {
      error(path, quoted(*text) + " is out of range (0.01 to 8192 CPUs)");
      return std::nullopt;
    }
    return CpuMax{false, v};
  }

  std::optional<std::string> cpu_list(const std::string& path) {
    return parsed(path, Kind::cpu_list,
                  [](const std::string& t) { return parse_cpu_list(t) ? std::optional(t) : std::nullopt; },
                  "is not a CPU list (examples: 0-3, 0,2,4-7)");
  }

  std::optional<Limit> count_or_max(const std::string& path) {
    auto text = scalar(path, Kind::count_or_max);
    if (!text) return std::nullopt;
    if (*text == "max") return Limit{true, 0};
    auto v = parse_int(*text, 1, INT64_MAX);
    if (!v || !all_digits(*text)) {
      error(path, quoted(*text) + " is not a positive integer or max");
      return std::nullopt;
    }
    return Limit{false, static_cast<uint64_t>(*v)};
  }

  std::optional<std::string> user(const std::string& path) {
    auto text = scalar(path, Kind::user);
    if (!text) return std::nullopt;
    return to_account(path, *text, "user");
  }
  std::optional<std::string> group(const std::string& path) {
    auto text = scalar(path, Kind::group);
    if (!text) return std::nullopt;
    return to_account(path, *text, "group");
  }

  std::optional<std::string> seccomp_profile(const std::string& path) {
    auto text = scalar(path, Kind::seccomp_profile);
    if (!text) return std::nullopt;
    if (*text == "default" || *text == "unconfined") return text;
    return to_host_path(path, *text);
  }

  std::optional<std::string> slice(const std::string& path) {
    auto text = scalar(path, Kind::unit_name);
    if (!text) return std::nullopt;
    bool ok = text->size() > 6 && text->size() <= 255 && text->ends_with(".slice") && text->front() != '-';
    for (char c : *text) {
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ':' || c == '_' || c == '.' || c == '-' || c == '\\'))
        ok = false;
    }
    if (!ok) {
      error(path, quoted(*text) + " is not a slice name (examples: machine.slice, ctrun-web.slice)");
      return std::nullopt;
    }
    return text;
  }

  std::optional<std::string> device_access(const std::string& path) {
    auto text = scalar(path, Kind::device_access);
    if (!text) return std::nullopt;
    std::string out;
    bool ok = !text->empty();
    for (char want : std::string("rwm")) {
      size_t n = std::count(text->begin(), text->end(), want);
      if (n > 1) ok = false;
      if (n == 1) out += want;
    }
    if (!ok || out.size() != text->size()) {
      error(path, quoted(*text) + " is not a combination of r, w and m");
      return std::nullopt;
    }
    return out;
  }

  std::optional<std::string> ifname(const std::string& path) {
    return parsed(path, Kind::ifname, as_ifname, kNotIfname);
  }

  std::optional<IpAddress> ip(const std::string& path) {
    return parsed(path, Kind::ip, [](const std::string& t) { return parse_ip(t); }, kNotIp);
  }

  std::optional<Cidr> cidr(const std::string& path) {
    auto text = scalar(path, Kind::cidr);
    if (!text) return std::nullopt;
    return to_cidr(path, *text, loc_of(path));
  }

  // ---- lists: each item's diagnostics name path[i] and point at the item ----

  struct Item {
    std::string text;
    std::string path;
    SourceLoc loc;
  };

  std::optional<std::vector<Item>> list(const std::string& path, Kind kind) {
    expect(path, kind);
    const YamlNode* n = node(path);
    if (n == nullptr) return std::nullopt;
    consumed_.insert(path);
    if (n->is_null()) return std::vector<Item>{};
    if (n->kind != YamlNode::Kind::seq) {
      error(path, std::string("must be ") + std::string(kind_description(kind)) + " ([a, b])");
      return std::nullopt;
    }
    std::vector<Item> items;
    bool ok = true;
    for (size_t i = 0; i < n->children.size(); ++i) {
      const YamlNode& c = n->children[i];
      Item item{"", path + "[" + std::to_string(i) + "]", loc(c)};
      locs_.keys[item.path] = item.loc;
      if (c.kind != YamlNode::Kind::scalar || c.is_null()) {
        diags_.error(item.loc, item.path, "must be a single value, not " + describe(c));
        ok = false;
        continue;
      }
      auto text = expand(c.value, item.path, item.loc);
      if (!text) {
        ok = false;
        continue;
      }
      item.text = *text;
      items.push_back(std::move(item));
    }
    if (!ok) return std::nullopt;
    return items;
  }

  // Converts each item; nothing if any item failed.
  template <typename T, typename F>
  std::optional<std::vector<T>> list_of(const std::string& path, Kind kind, F convert) {
    auto items = list(path, kind);
    if (!items) return std::nullopt;
    std::vector<T> out;
    bool ok = true;
    for (auto& item : *items) {
      std::optional<T> v = convert(item);
      if (v) out.push_back(std::move(*v));
      else ok = false;
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::optional<std::vector<std::string>> host_path_list(const std::string& path) {
    return list_of<std::string>(path, Kind::host_path_list,
                                [&](Item& i) { return to_host_path_at(i.path, i.text, i.loc); });
  }

  std::optional<std::vector<int>> capabilities(const std::string& path) {
    return list_of<int>(path, Kind::capability_list, [&](Item& i) -> std::optional<int> {
      auto cap = caps::parse_capability(i.text);
      if (!cap) {
        std::string msg = quoted(i.text) + " is not a capability known to libcap";
        std::string upper = i.text;
        for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        if (!upper.starts_with("CAP_")) upper.insert(0, "CAP_");
        auto names = caps::all_capability_names();
        if (auto near = closest_match(upper, names); !near.empty()) msg += " (did you mean \"" + near + "\"?)";
        diags_.error(i.loc, i.path, msg);
      }
      return cap;
    });
  }

  std::optional<std::vector<std::string>> syscalls(const std::string& path) {
    return list_of<std::string>(path, Kind::syscall_list, [&](Item& i) -> std::optional<std::string> {
      if (seccomp::is_known_syscall(i.text)) return i.text;
      std::string msg = quoted(i.text) + " is not a system call known to libseccomp on this architecture";
      if (auto near = closest_match(i.text, seccomp::all_syscall_names()); !near.empty()) msg += " (did you mean \"" + near + "\"?)";
      diags_.error(i.loc, i.path, msg);
      return std::nullopt;
    });
  }

  std::optional<std::vector<Cidr>> cidrs(const std::string& path) {
    return list_of<Cidr>(path, Kind::cidr_list, [&](Item& i) { return to_cidr(i.path, i.text, i.loc); });
  }

  std::optional<std::vector<IpAddress>> ips(const std::string& path) {
    return list_of<IpAddress>(path, Kind::ip_list, [&](Item& i) -> std::optional<IpAddress> {
      auto a = parse_ip(i.text);
      if (!a) diags_.error(i.loc, i.path, quoted(i.text) + " " + kNotIp);
      return a;
    });
  }

  std::optional<std::vector<std::string>> ifnames(const std::string& path) {
    return list_of<std::string>(path, Kind::ifname_list, [&](Item& i) -> std::optional<std::string> {
      auto name = as_ifname(i.text);
      if (!name) diags_.error(i.loc, i.path, quoted(i.text) + " " + kNotIfname);
      return name;
    });
  }

  std::optional<std::vector<std::string>> strings(const std::string& path) {
    return list_of<std::string>(path, Kind::string_list, [](Item& i) { return std::optional(i.text); });
  }

  std::optional<std::vector<std::string>> groups(const std::string& path) {
    return list_of<std::string>(path, Kind::group_list,
                                [&](Item& i) { return to_account_at(i.path, i.loc, i.text, "group"); });
  }

  // ---- mappings with free keys ----

  struct Pair {
    std::string key;
    std::string path;
    SourceLoc loc;
    const YamlNode* value;
  };

  std::optional<std::vector<Pair>> pairs(const std::string& path, Kind kind) {
    expect(path, kind);
    const YamlNode* n = node(path);
    if (n == nullptr) return std::nullopt;
    consumed_.insert(path);
    if (n->is_null()) return std::vector<Pair>{};
    if (n->kind != YamlNode::Kind::map) {
      error(path, std::string("must be ") + std::string(kind_description(kind)) + " ({KEY: value})");
      return std::nullopt;
    }
    std::vector<Pair> out;
    for (size_t i = 0; i < n->map_size(); ++i) {
      const YamlNode& k = n->key(i);
      std::string p = path + "." + k.value;
      locs_.keys[p] = loc(k);
      out.push_back({k.value, p, loc(k), &n->val(i)});
    }
    return out;
  }

  // The expanded scalar text of a free-key mapping's value.
  std::optional<std::string> pair_text(const Pair& p) {
    if (p.value->kind != YamlNode::Kind::scalar || p.value->is_null()) {
      diags_.error(p.loc, p.path, "must be a single value, not " + describe(*p.value));
      return std::nullopt;
    }
    return expand(p.value->value, p.path, p.loc);
  }

  std::optional<StringPairs> env(const std::string& path) {
    auto ps = pairs(path, Kind::env_map);
    if (!ps) return std::nullopt;
    StringPairs out;
    bool ok = true;
    for (auto& p : *ps) {
      bool name_ok = !p.key.empty() && p.key.find('=') == std::string::npos;
      if (!name_ok) {
        diags_.error(p.loc, p.path, "an environment variable name must be non-empty and without '='");
        ok = false;
        continue;
      }
      auto v = pair_text(p);
      if (!v) {
        ok = false;
        continue;
      }
      out.emplace_back(p.key, *v);
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::optional<std::vector<std::pair<std::string, IpAddress>>> hosts(const std::string& path) {
    auto ps = pairs(path, Kind::hosts_map);
    if (!ps) return std::nullopt;
    std::vector<std::pair<std::string, IpAddress>> out;
    bool ok = true;
    for (auto& p : *ps) {
      if (!is_hostname(p.key)) {
        diags_.error(p.loc, p.path, quoted(p.key) + " is not a host name");
        ok = false;
        continue;
      }
      auto v = pair_text(p);
      if (!v) {
        ok = false;
        continue;
      }
      auto a = parse_ip(*v);
      if (!a) {
        diags_.error(p.loc, p.path, quoted(*v) + " " + kNotIp);
        ok = false;
        continue;
      }
      out.emplace_back(p.key, *a);
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::optional<StringPairs> properties(const std::string& path) {
    auto ps = pairs(path, Kind::property_map);
    if (!ps) return std::nullopt;
    StringPairs out;
    bool ok = true;
    for (auto& p : *ps) {
      bool name_ok = !p.key.empty() && std::isupper(static_cast<unsigned char>(p.key[0]));
      for (char c : p.key) {
        if (!std::isalnum(static_cast<unsigned char>(c))) name_ok = false;
      }
      if (!name_ok) {
        diags_.error(p.loc, p.path, quoted(p.key) + " is not a unit property name (examples: CPUWeight, TasksMax)");
        ok = false;
        continue;
      }
      auto v = pair_text(p);
      if (!v) {
        ok = false;
        continue;
      }
      out.emplace_back(p.key, *v);
    }
    if (!ok) return std::nullopt;
    return out;
  }

  std::optional<std::vector<Rlimit>> rlimits(const std::string& path) {
    auto ps = pairs(path, Kind::rlimit_map);
    if (!ps) return std::nullopt;
    std::vector<Rlimit> out;
    bool ok = true;
    for (auto& p : *ps) {
      int resource = -1;
      std::vector<std::string> names;
      for (auto [name, r] : kRlimits) {
        names.emplace_back(name);
        if (p.key == name) resource = r;
      }
      if (resource < 0) {
        std::string msg = quoted(p.key) + " is not a resource limit (" + join(names, ", ") + ")";
        if (auto near = closest_match(p.key, names); !near.empty()) msg += " (did you mean \"" + near + "\"?)";
        diags_.error(p.loc, p.path, msg);
        ok = false;
        continue;
      }
      std::vector<const YamlNode*> values;
      if (p.value->kind == YamlNode::Kind::seq) {
        for (const auto& c : p.value->children) values.push_back(&c);
      } else {
        values.push_back(p.value);
      }
      if (values.empty() || values.size() > 2) {
        diags_.error(p.loc, p.path, "must be a limit or [soft, hard]");
        ok = false;
        continue;
      }
      std::vector<uint64_t> limits;
      for (const YamlNode* v : values) {
        if (v->kind != YamlNode::Kind::scalar || v->is_null()) {
          diags_.error(p.loc, p.path, "must be a limit or [soft, hard]");
          break;
        }
        auto text = expand(v->value, p.path, p.loc);
        if (!text) break;
        if (*text == "unlimited" || *text == "infinity") {
          limits.push_back(RLIM_INFINITY);
        } else if (auto n = parse_int(*text, 0, INT64_MAX); n && all_digits(*text)) {
          limits.push_back(static_cast<uint64_t>(*n));
        } else {
          diags_.error(p.loc, p.path, quoted(*text) + " is not a limit (a number or unlimited)");
          break;
        }
      }
      if (limits.size() != values.size()) {
        ok = false;
        continue;
      }
      uint64_t soft = limits[0], hard = limits.size() == 2 ? limits[1] : limits[0];
      if (soft > hard) {
        diags_.error(p.loc, p.path, "the soft limit is above the hard limit");
        ok = false;
        continue;
      }
      out.push_back({p.key, resource, soft, hard});
    }
    if (!ok) return std::nullopt;
    return out;
  }

  SourceLoc loc_of(const std::string& path) const { return locs_.at(path); }

  void error(const std::string& path, std::string msg) { diags_.error(loc_of(path), path, std::move(msg)); }

  std::optional<std::string> expand(const std::string& text, const std::string& path, const SourceLoc& at) {
    std::string err;
    auto v = expand_variables(text, options_.getenv, err);
    if (!v) diags_.error(at, path, err);
    return v;
  }

  std::optional<std::string> to_host_path(const std::string& path, const std::string& text) {
    return to_host_path_at(path, text, loc_of(path));
  }

  std::optional<std::string> to_host_path_at(const std::string& path, const std::string& text, const SourceLoc& at) {
    if (text.empty()) {
      diags_.error(at, path, "the path is empty");
      return std::nullopt;
    }
    if (text.size() > 4095) {
      diags_.error(at, path, "the path is longer than 4095 bytes");
      return std::nullopt;
    }
    if (text.front() == '/') return clean_path(text);
    return clean_path(options_.base_dir + "/" + text);
  }

 private:
  static std::string describe(const YamlNode& n) {
    switch (n.kind) {
      case YamlNode::Kind::seq: return "a list";
      case YamlNode::Kind::map: return "a mapping";
      default: return "an empty value";
    }
  }

  SourceLoc loc(const YamlNode& n) const {
    // Nodes from --set carry their own file marker in line numbers < 0.
    if (n.line < 0) return {kCommandLine, -n.line, n.col};
    return {file_, n.line, n.col};
  }

  const KeyInfo* expect(const std::string& path, Kind kind) {
    const KeyInfo* info = find_key(key_pattern(path));
    if (info == nullptr || info->kind != kind) {
      throw std::logic_error("schema mismatch for " + path);
    }
    return info;
  }

  const YamlNode* node(const std::string& path) const {
    auto it = entries_.find(path);
    return it == entries_.end() ? nullptr : it->second.value;
  }

  // The expanded text of a scalar key; nothing when absent or not a scalar.
  std::optional<std::string> scalar(const std::string& path, Kind kind) {
    expect(path, kind);
    const YamlNode* n = node(path);
    if (n == nullptr) return std::nullopt;
    consumed_.insert(path);
    if (n->is_null()) {
      error(path, "has no value (remove the key to get the default)");
      return std::nullopt;
    }
    if (n->kind != YamlNode::Kind::scalar) {
      error(path, std::string("must be ") + std::string(kind_description(kind)) + ", not " + describe(*n));
      return std::nullopt;
    }
    return expand(n->value, path, loc_of(path));
  }

  std::optional<bool> to_bool(const std::string& path, const std::string& text, bool plain) {
    if (plain && text == "true") return true;
    if (plain && text == "false") return false;
    error(path, quoted(text) + " is not a boolean (true or false)");
    return std::nullopt;
  }

  std::optional<int64_t> to_int(const std::string& path, const std::string& text, int64_t min, int64_t max) {
    auto v = parse_int(text, INT64_MIN, INT64_MAX);
    if (!v) {
      error(path, quoted(text) + " is not an integer");
      return std::nullopt;
    }
    if (*v < min || *v > max) {
      error(path, text + " is out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")");
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::string> to_container_path(const std::string& path, const std::string& text) {
    if (text.empty() || text.front() != '/') {
      error(path, quoted(text) + " is not an absolute path");
      return std::nullopt;
    }
    if (has_dotdot(text)) {
      error(path, quoted(text) + " must not contain \"..\"");
      return std::nullopt;
    }
    if (text.size() > 4095) {
      error(path, "the path is longer than 4095 bytes");
      return std::nullopt;
    }
    return clean_path(text);
  }

  std::optional<Cidr> to_cidr(const std::string& path, const std::string& text, const SourceLoc& at) {
    auto c = parse_cidr(text);
    if (!c) diags_.error(at, path, quoted(text) + " is not an address with prefix (examples: 10.0.3.2/24, fd00::2/64)");
    return c;
  }

  std::optional<std::string> to_account(const std::string& path, const std::string& text, const char* what) {
    return to_account_at(path, loc_of(path), text, what);
  }

  std::optional<std::string> to_account_at(const std::string& path, const SourceLoc& at, const std::string& text,
                                           const char* what) {
    if (all_digits(text)) {
      if (!parse_int(text, 0, 4294967294)) {
        diags_.error(at, path, quoted(text) + " is out of range (0 to 4294967294)");
        return std::nullopt;
      }
      return text;
    }
    if (!is_account_name(text)) {
      diags_.error(at, path, quoted(text) + " is not a " + what + " name or number");
      return std::nullopt;
    }
    return text;
  }

  void unknown_key(const YamlNode& key, const std::string& full, const std::string& pattern) {
    std::string msg = "unknown key";
    auto siblings = child_keys(pattern);
    if (auto near = closest_match(key.value, siblings); !near.empty()) {
      msg += " (did you mean \"" + near + "\"?)";
    } else {
      // A known key in the wrong place: suggest where it belongs.
      for (const auto& k : schema()) {
        std::string_view p = k.path;
        size_t dot = p.rfind('.');
        if (dot != std::string_view::npos && p.substr(dot + 1) == key.value && p.find('[') == std::string_view::npos) {
          msg += " (did you mean \"" + std::string(p) + "\"?)";
          break;
        }
      }
    }
    if (pattern.empty() && key.value == "mount") msg = "unknown key (the mount namespace is always new)";
    diags_.error(loc(key), full, msg);
  }

  const std::string& file_;
  const LoadOptions& options_;
  SourceMap& locs_;
  Diagnostics& diags_;
  std::map<std::string, Entry> entries_;
  std::set<std::string> consumed_;
};

// Stores a value when the getter produced one; leaves the default otherwise.
template <typename T, typename U>
void set(T& field, const std::optional<U>& v) {
  if (v) field = static_cast<T>(*v);
}

void build(Reader& r, const std::string& file, Manifest& m) {
  if (auto v = r.integer("version"); v && *v != 1) {
    r.error("version", std::to_string(*v) + " is not supported (this ctrun reads manifest version 1)");
  }
  if (!r.present("version")) r.error("version", "the manifest needs `version: 1`");
  if (auto name = r.string("name", Kind::name)) {
    if (is_name(*name)) m.name = *name;
    else r.error("name", quoted(*name) + " is not a valid name ([A-Za-z0-9_.-], 1 to 64 characters, not . or ..)");
  } else if (!r.present("name")) {
    std::string base = file.substr(file.rfind('/') == std::string::npos ? 0 : file.rfind('/') + 1);
    if (size_t dot = base.rfind('.'); dot != std::string::npos && dot > 0) base.resize(dot);
    if (is_name(base)) m.name = base;
    else r.error("name", "the file name " + quoted(base) + " is not a valid container name; set name:");
  }
  m.hostname = m.name;
  if (auto h = r.string("hostname", Kind::hostname)) {
    if (is_hostname(*h)) m.hostname = *h;
    else r.error("hostname", quoted(*h) + " is not a host name (letters, digits, '-', '_' and '.', at most 64)");
  } else if (!r.present("hostname") && !m.name.empty() && !is_hostname(m.name)) {
    r.error("name", quoted(m.name) + " is not a valid host name, so it cannot be the default hostname; set hostname:");
  }

  set(m.rootfs.path, r.host_path("rootfs.path"));
  set(m.rootfs.host, r.boolean("rootfs.host"));
  set(m.rootfs.readonly, r.boolean("rootfs.readonly"));
  set(m.rootfs.ephemeral, r.boolean("rootfs.ephemeral"));

  set(m.process.args, r.strings("process.args"));
  set(m.process.env, r.env("process.env"));
  set(m.process.cwd, r.container_path("process.cwd"));
  set(m.process.user, r.user("process.user"));
  set(m.process.group, r.group("process.group"));
  set(m.process.supplementary_groups, r.groups("process.supplementary_groups"));
  set(m.process.terminal, r.terminal("process.terminal"));
  set(m.process.umask, r.octal("process.umask"));
  set(m.process.no_new_privileges, r.boolean("process.no_new_privileges"));
  set(m.process.oom_score_adjust, r.integer("process.oom_score_adjust"));
  set(m.process.rlimits, r.rlimits("process.rlimits"));

  set(m.boot, r.boolean("boot"));
  if (auto v = r.choice("init.cgroup")) m.init.cgroup = static_cast<InitCgroup>(*v);
  set(m.init.machine_id, r.string("init.machine_id", Kind::string));
  if (auto v = r.choice("init.link_journal")) m.init.link_journal = static_cast<LinkJournal>(*v);

  set(m.namespaces.pid, r.namespace_mode("namespaces.pid"));
  set(m.namespaces.uts, r.namespace_mode("namespaces.uts"));
  set(m.namespaces.ipc, r.namespace_mode("namespaces.ipc"));
  set(m.namespaces.net, r.namespace_mode("namespaces.net"));
  set(m.namespaces.cgroup, r.namespace_mode("namespaces.cgroup"));
  set(m.namespaces.user, r.namespace_mode("namespaces.user"));
  set(m.namespaces.time, r.namespace_mode("namespaces.time"));

  for (const char* which : {"uid_map", "gid_map"}) {
    std::string base = std::string("user_namespace.") + which;
    auto& map = which[0] == 'u' ? m.user_namespace.uid_map : m.user_namespace.gid_map;
    size_t n = r.list_size(base);
    for (size_t i = 0; i < n; ++i) {
      if (!r.list_item_ok(base, i)) continue;
      std::string p = base + "[" + std::to_string(i) + "]";
      IdRange range;
      bool ok = true;
      for (auto [field, key] : {std::pair{0, ".inside"}, {1, ".outside"}, {2, ".count"}}) {
        auto v = r.integer(p + key);
        if (!v) {
          if (!r.present(p + key)) r.error(p, std::string("needs ") + (key + 1));
          ok = false;
          continue;
        }
        if (field == 0) range.inside = static_cast<uint32_t>(*v);
        if (field == 1) range.outside = static_cast<uint32_t>(*v);
        if (field == 2) range.count = static_cast<uint64_t>(*v);
      }
      if (ok) map.push_back(range);
    }
  }
  if (m.namespaces.user.mode == NamespaceMode::Mode::create) {
    if (!r.present("user_namespace.uid_map")) m.user_namespace.uid_map = {{0, 100000, 65536}};
    if (!r.present("user_namespace.gid_map")) m.user_namespace.gid_map = {{0, 100000, 65536}};
  }

  size_t nm = r.list_size("mounts");
  for (size_t i = 0; i < nm; ++i) {
    if (!r.list_item_ok("mounts", i)) continue;
    std::string p = "mounts[" + std::to_string(i) + "]";
    Mount mount;
    auto type = r.choice(p + ".type");
    if (type) mount.type = static_cast<MountType>(*type);
    else if (!r.present(p + ".type")) r.error(p, "needs type (bind, tmpfs or overlay)");
    set(mount.source, r.host_path(p + ".source"));
    set(mount.target, r.container_path(p + ".target"));
    if (!r.present(p + ".target")) r.error(p, "needs target");
    set(mount.readonly, r.boolean(p + ".readonly"));
    if (auto s = r.size(p + ".size", false)) mount.size = s;
    if (auto o = r.octal(p + ".mode")) mount.mode = o;
    set(mount.lower, r.host_path_list(p + ".lower"));
    set(mount.upper, r.host_path(p + ".upper"));
    set(mount.work, r.host_path(p + ".work"));
    m.mounts.push_back(std::move(mount));
  }

  size_t nd = r.list_size("devices");
  for (size_t i = 0; i < nd; ++i) {
    if (!r.list_item_ok("devices", i)) continue;
    std::string p = "devices[" + std::to_string(i) + "]";
    Device d;
    set(d.path, r.container_path(p + ".path"));
    if (!r.present(p + ".path")) r.error(p, "needs path");
    set(d.access, r.device_access(p + ".access"));
    m.devices.push_back(std::move(d));
  }

  if (auto v = r.size("resources.memory.max", true)) m.resources.memory_max = v;
  if (auto v = r.size("resources.memory.high", true)) m.resources.memory_high = v;
  if (auto v = r.size("resources.memory.swap_max", true)) m.resources.memory_swap_max = v;
  if (auto v = r.integer("resources.cpu.weight")) m.resources.cpu_weight = static_cast<uint32_t>(*v);
  if (auto v = r.cpu_max("resources.cpu.max")) m.resources.cpu_max = v;
  set(m.resources.cpuset, r.cpu_list("resources.cpu.cpuset"));
  if (auto v = r.count_or_max("resources.pids.max")) m.resources.pids_max = v;
  if (auto v = r.integer("resources.io.weight")) m.resources.io_weight = static_cast<uint32_t>(*v);

  set(m.capabilities.add, r.capabilities("capabilities.add"));
  set(m.capabilities.drop, r.capabilities("capabilities.drop"));

  set(m.seccomp.profile, r.seccomp_profile("seccomp.profile"));
  set(m.seccomp.allow, r.syscalls("seccomp.allow"));
  set(m.seccomp.deny, r.syscalls("seccomp.deny"));

  if (m.namespaces.net.mode == NamespaceMode::Mode::host) m.network.mode = NetworkMode::host;
  if (auto v = r.choice("network.mode")) m.network.mode = static_cast<NetworkMode>(*v);
  set(m.network.bridge, r.ifname("network.bridge"));
  set(m.network.parent, r.ifname("network.parent"));
  if (auto v = r.choice("network.macvlan_mode")) m.network.macvlan_mode = static_cast<MacvlanMode>(*v);
  if (auto v = r.choice("network.ipvlan_mode")) m.network.ipvlan_mode = static_cast<IpvlanMode>(*v);
  set(m.network.interfaces, r.ifnames("network.interfaces"));
  set(m.network.address, r.cidrs("network.address"));
  if (auto v = r.ip("network.gateway")) m.network.gateway = v;
  if (auto v = r.cidr("network.host_address")) m.network.host_address = v;
  set(m.network.dns, r.ips("network.dns"));
  set(m.network.hosts, r.hosts("network.hosts"));

  if (auto v = r.choice("systemd.register")) m.systemd.register_ = static_cast<Register>(*v);
  if (auto v = r.choice("systemd.machine")) m.systemd.machine = static_cast<Machine>(*v);
  set(m.systemd.slice, r.slice("systemd.slice"));
  set(m.systemd.properties, r.properties("systemd.properties"));
  if (auto v = r.choice("systemd.notify")) m.systemd.notify = static_cast<Notify>(*v);

  m.stop.signal = m.boot ? SIGRTMIN + 3 : SIGTERM;
  set(m.stop.signal, r.signal("stop.signal"));
  set(m.stop.timeout_us, r.duration("stop.timeout"));
}

void shift_positions(YamlNode& n, int line, int col_offset) {
  n.line = -line;  // negative: a --set position (see Reader::loc)
  n.col += col_offset;
  for (auto& c : n.children) shift_positions(c, line, col_offset);
}

// Parses "a.b[2].c" into segments; an index segment is "[2]".
std::optional<std::vector<std::string>> split_key_path(std::string_view key) {
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (c == '.') {
      if (cur.empty()) return std::nullopt;
      out.push_back(cur);
      cur.clear();
    } else if (c == '[') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
      size_t close = key.find(']', i);
      if (close == std::string_view::npos || close == i + 1 || !all_digits(key.substr(i + 1, close - i - 1)))
        return std::nullopt;
      out.emplace_back(key.substr(i, close - i + 1));
      i = close;
      if (i + 1 < key.size() && key[i + 1] == '.') ++i;
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  if (out.empty()) return std::nullopt;
  return out;
}

// Applies one --set to the tree. Nodes it adds carry the command-line position.
void apply_set(YamlNode& root, const std::string& arg, int index, Diagnostics& diags) {
  size_t eq = arg.find('=');
  SourceLoc at{kCommandLine, index, 1};
  if (eq == std::string::npos || eq == 0) {
    diags.error(at, "", "--set needs key.path=value, not " + quoted(arg));
    return;
  }
  std::string key = arg.substr(0, eq);
  auto segments = split_key_path(key);
  if (!segments) {
    diags.error(at, key, "is not a key path (examples: resources.memory.max, mounts[0].target)");
    return;
  }
  std::string pattern = key_pattern(key);
  // An entry of a free-form mapping: --set process.env.DEBUG=1.
  auto dot = pattern.rfind('.');
  const KeyInfo* parent = dot == std::string::npos ? nullptr : find_key(pattern.substr(0, dot));
  bool map_entry = parent != nullptr && (parent->kind == Kind::env_map || parent->kind == Kind::hosts_map ||
                                         parent->kind == Kind::property_map || parent->kind == Kind::rlimit_map);
  if (find_key(pattern) == nullptr && !map_entry) {
    std::string msg = "unknown key";
    if (auto near = closest_match(pattern, all_key_paths()); !near.empty()) msg += " (did you mean \"" + near + "\"?)";
    diags.error(at, key, msg);
    return;
  }
  YamlNode value;
  Diagnostics local;
  if (!parse_yaml(std::string_view(arg).substr(eq + 1), kCommandLine, value, local, {}, false)) {
    for (const auto& d : local.items()) {
      diags.error({kCommandLine, index, d.loc.col + static_cast<int>(eq) + 1}, key, d.message);
    }
    return;
  }
  shift_positions(value, index, static_cast<int>(eq) + 1);
  if (value.kind == YamlNode::Kind::null) value.col = static_cast<int>(eq) + 2;

  YamlNode* cur = &root;
  std::string walked;
  for (size_t s = 0; s < segments->size(); ++s) {
    const std::string& seg = (*segments)[s];
    bool last = s + 1 == segments->size();
    if (seg.front() == '[') {
      size_t idx = std::stoul(seg.substr(1, seg.size() - 2));
      if (cur->kind != YamlNode::Kind::seq || idx >= cur->children.size()) {
        diags.error(at, key, walked + seg + " does not exist in the manifest");
        return;
      }
      walked += seg;
      if (last) {
        cur->children[idx] = std::move(value);
        return;
      }
      cur = &cur->children[idx];
      continue;
    }
    walked += (walked.empty() ? "" : ".") + seg;
    if (cur->kind == YamlNode::Kind::null) {
      cur->kind = YamlNode::Kind::map;
      cur->line = -index;
      cur->col = 1;
    }
    if (cur->kind != YamlNode::Kind::map) {
      diags.error(at, key, "cannot set a key below a value that is not a mapping");
      return;
    }
    YamlNode* child = nullptr;
    size_t found = 0;
    for (size_t i = 0; i < cur->map_size(); ++i) {
      if (cur->key(i).value == seg) {
        child = &cur->val(i);
        found = i;
      }
    }
    if (child == nullptr) {
      if (last && value.kind == YamlNode::Kind::null) return;  // removing an absent key
      YamlNode k;
      k.kind = YamlNode::Kind::scalar;
      k.value = seg;
      k.line = -index;
      k.col = 1;
      YamlNode v;
      v.line = -index;
      v.col = 1;
      cur->children.push_back(std::move(k));
      cur->children.push_back(std::move(v));
      found = cur->map_size() - 1;
      child = &cur->val(found);
    }
    if (last) {
      if (value.kind == YamlNode::Kind::null) {
        // key= removes the key: the default applies again.
        cur->children.erase(cur->children.begin() + static_cast<long>(2 * found),
                            cur->children.begin() + static_cast<long>(2 * found + 2));
        return;
      }
      cur->children[2 * found].line = -index;  // errors about this key point at the command line
      cur->children[2 * found].col = 1;
      *child = std::move(value);
      return;
    }
    cur = child;
  }
}

ReadStatus read_tree(YamlNode& root, const std::string& display, const LoadOptions& options, Manifest& out,
               SourceMap& locs, Diagnostics& diags) {
  Diagnostics local;
  for (size_t i = 0; i < options.sets.size(); ++i) apply_set(root, options.sets[i], static_cast<int>(i) + 1, local);
  locs.file = display;
  LoadOptions effective = options;
  if (!effective.getenv) {
    effective.getenv = [](const std::string& name) -> std::optional<std::string> {
      const char* v = ::getenv(name.c_str());
      if (v == nullptr) return std::nullopt;
      return std::string(v);
    };
  }
  if (effective.base_dir.empty()) effective.base_dir = "/";
  Reader reader(display, effective, locs, local);
  reader.walk(root, "", "");
  Manifest m;
  build(reader, display, m);
  reader.check_all_consumed();
  local.sort();
  bool ok = !local.has_errors();
  diags.append(local);
  out = std::move(m);
  return ok ? ReadStatus::ok : ReadStatus::errors;
}

std::string directory_of(const std::string& path) {
  std::string abs = path;
  if (abs.empty() || abs.front() != '/') {
    char buf[4096];
    if (getcwd(buf, sizeof buf) != nullptr) abs = std::string(buf) + "/" + path;
  }
  size_t slash = abs.rfind('/');
  return clean_path(slash == std::string::npos || slash == 0 ? "/" : abs.substr(0, slash));
}

}  // namespace

ReadStatus read_manifest_file(const std::string& path, const LoadOptions& options, Manifest& out, SourceMap& locs,
                              Diagnostics& diags) {
  YamlNode root;
  if (!load_yaml_file(path, root, diags)) return ReadStatus::unreadable;
  LoadOptions effective = options;
  if (effective.base_dir.empty()) effective.base_dir = directory_of(path);
  return read_tree(root, path, effective, out, locs, diags);
}

ReadStatus read_manifest_text(std::string_view text, const std::string& display, const LoadOptions& options,
                              Manifest& out, SourceMap& locs, Diagnostics& diags) {
  YamlNode root;
  if (!parse_yaml(text, display, root, diags)) return ReadStatus::unreadable;
  return read_tree(root, display, options, out, locs, diags);
}

SourceLoc SourceMap::at(const std::string& path) const {
  std::string p = path;
  while (true) {
    if (auto it = keys.find(p); it != keys.end()) return it->second;
    size_t cut = p.find_last_of(".[");
    if (cut == std::string::npos) break;
    p.resize(cut);
  }
  return {file, 1, 1};
}

std::string choice_word(std::string_view pattern, int index) {
  const KeyInfo* info = find_key(pattern);
  if (info == nullptr) return "?";
  auto words = split_choices(info->choices);
  return index >= 0 && static_cast<size_t>(index) < words.size() ? words[static_cast<size_t>(index)] : "?";
}

bool is_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s == "." || s == "..") return false;
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-')) return false;
  }
  return true;
}

}  // namespace ctrun::manifest

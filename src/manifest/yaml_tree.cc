#include "manifest/yaml_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <sstream>

#include "base/text.h"

namespace ctrun::manifest {
namespace {

constexpr size_t kMaxByteErrors = 10;

std::string hex_byte(unsigned char c) {
  static const char* digits = "0123456789abcdef";
  return std::string("0x") + digits[c >> 4] + digits[c & 15];
}

// Decodes one UTF-8 sequence at s[i]; returns its length, or 0 when invalid
// (overlong forms, surrogates and code points past U+10FFFF included).
size_t utf8_sequence(std::string_view s, size_t i, uint32_t& cp) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  size_t len;
  if (c < 0x80) {
    cp = c;
    return 1;
  } else if ((c & 0xe0) == 0xc0) {
    len = 2;
    cp = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3;
    cp = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    unsigned char cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

bool is_control(uint32_t cp) { return (cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7f && cp <= 0x9f); }

// Byte-level checks before yaml-cpp sees the text: invalid UTF-8, control
// characters (CR only as part of CRLF), and tabs used for indentation. Block
// scalar bodies may hold tabs after their indentation.
void scan_bytes(std::string_view text, const std::string& file, Diagnostics& diags) {
  size_t errors = 0;
  int line = 1;
  size_t line_start = 0;
  int block_parent_indent = -1;  // indentation of the line that opened a block scalar
  auto col_of = [&](size_t i) {
    // Columns count characters, not bytes.
    int col = 1;
    for (size_t k = line_start; k < i; ++k) {
      if ((static_cast<unsigned char>(text[k]) & 0xc0) != 0x80) ++col;
    }
    return col;
  };
  auto report = [&](size_t i, std::string msg) {
    if (errors < kMaxByteErrors) diags.error({file, line, col_of(i)}, "", std::move(msg));
    ++errors;
  };
  size_t i = 0;
  if (text.substr(0, 3) == "\xef\xbb\xbf") i = 3;  // a UTF-8 byte order mark is allowed first
  bool bad_line = false;
  while (i <= text.size()) {
    if (i == text.size() || text[i] == '\n') {
      // End of a line: check its indentation.
      std::string_view l = text.substr(line_start, i - line_start);
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      size_t spaces = 0;
      while (spaces < l.size() && l[spaces] == ' ') ++spaces;
      size_t ws = spaces;
      while (ws < l.size() && (l[ws] == ' ' || l[ws] == '\t')) ++ws;
      bool blank = ws == l.size() || l[ws] == '#';
      bool in_block = block_parent_indent >= 0 && (ws == l.size() || static_cast<int>(spaces) > block_parent_indent);
      if (!in_block) block_parent_indent = -1;
      if (!blank && !in_block && ws > spaces && !bad_line) {
        report(line_start + spaces, "a tab is used for indentation (YAML allows only spaces)");
      }
      if (!in_block && !blank) {
        // Does this line open a block scalar (`key: |`, `- >-`)?
        std::string_view t = l;
        size_t hash = t.find(" #");
        if (hash != std::string_view::npos) t = t.substr(0, hash);
        while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
        size_t k = t.size();
        while (k > 0 && (t[k - 1] == '-' || t[k - 1] == '+' || (t[k - 1] >= '1' && t[k - 1] <= '9'))) --k;
        if (k > 0 && (t[k - 1] == '|' || t[k - 1] == '>') &&
            (k == 1 || t[k - 2] == ' ')) {
          block_parent_indent = static_cast<int>(spaces);
        }
      }
      if (i == text.size()) break;
      ++line;
      line_start = i + 1;
      bad_line = false;
      ++i;
      continue;
    }
    uint32_t cp = 0;
    size_t len = utf8_sequence(text, i, cp);
    if (len == 0) {
      if (!bad_line) report(i, "invalid UTF-8 (byte " + hex_byte(static_cast<unsigned char>(text[i])) + ")");
      bad_line = true;
      ++i;
      continue;
    }
    if (cp == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;
      continue;
    }
    if (is_control(cp) && !bad_line) {
      char buf[16];
      std::snprintf(buf, sizeof buf, "U+%04X", cp);
      report(i, std::string("control character ") + buf + " is not allowed");
      bad_line = true;
    }
    i += len;
  }
  if (errors > kMaxByteErrors) {
    diags.error({file, 0, 0}, "", std::to_string(errors - kMaxByteErrors) + " more byte-level errors not shown");
  }
}

struct Abort {};  // thrown from the handler to stop parsing at a hard limit

// Builds YamlNode trees from yaml-cpp's events and refuses what the contract
// forbids. Keys paths are tracked so that even syntax errors name a key.
class TreeBuilder : public YAML::EventHandler {
 public:
  TreeBuilder(const std::string& file, Diagnostics& diags, const YamlLimits& limits)
      : file_(file), diags_(diags), limits_(limits) {}

  YamlNode root;
  bool have_root = false;

  // The key path of the node being read: for an open collection, the entry
  // that holds the next frame; for the innermost one, the entry to come.
  std::string current_path() const {
    std::string path;
    for (size_t i = 0; i < stack_.size(); ++i) {
      const YamlNode& n = *stack_[i].node;
      bool innermost = i + 1 == stack_.size();
      size_t size = n.children.size();
      if (n.kind == YamlNode::Kind::map) {
        const YamlNode* key = nullptr;
        if (innermost && size % 2 == 1) key = &n.children.back();
        if (!innermost && size >= 2) key = &n.children[size - 2];
        if (key != nullptr) path += (path.empty() ? "" : ".") + key->value;
      } else if (n.kind == YamlNode::Kind::seq) {
        path += '[' + std::to_string(innermost ? size : size - 1) + ']';
      }
    }
    return path;
  }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    check_anchor(mark, anchor);
    YamlNode n;
    n.kind = YamlNode::Kind::null;
    set_pos(n, mark);
    add(std::move(n));
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override {
    error(mark, current_path(), "aliases (*name) are not allowed");
    YamlNode n;
    set_pos(n, mark);
    add(std::move(n));
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    check_anchor(mark, anchor);
    check_tag(mark, tag);
    YamlNode n;
    n.kind = YamlNode::Kind::scalar;
    n.value = value;
    n.plain = tag == "?";
    set_pos(n, mark);
    for (unsigned char c : value) {
      // Escapes such as "\0" or "\x01" bring control characters past the byte scan.
      if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
        error(mark, current_path_for_value(), "control character in a string is not allowed");
        break;
      }
    }
    if (has_c1(value)) {
      error(mark, current_path_for_value(), "control character in a string is not allowed");
    }
    add(std::move(n));
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, tag, anchor, YamlNode::Kind::seq);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, tag, anchor, YamlNode::Kind::map);
  }
  void OnMapEnd() override { close(); }

  void OnAnchor(const YAML::Mark& mark, const std::string& name) override {
    error(mark, current_path_for_value(), "anchors (&" + name + ") are not allowed");
    anchor_reported_ = true;
  }

 private:
  struct Frame {
    YamlNode* node;
    std::map<std::string, int> keys;  // key text -> line, for duplicate detection
  };

  static bool has_c1(const std::string& v) {
    for (size_t i = 0; i + 1 < v.size(); ++i) {
      if (static_cast<unsigned char>(v[i]) == 0xc2 && static_cast<unsigned char>(v[i + 1]) >= 0x80 &&
          static_cast<unsigned char>(v[i + 1]) <= 0x9f)
        return true;
    }
    return false;
  }

  // The path of the value about to be added (a key just read, or a list slot).
  std::string current_path_for_value() const { return current_path(); }

  void set_pos(YamlNode& n, const YAML::Mark& mark) {
    n.line = mark.line + 1;
    n.col = mark.column + 1;
  }

  void error(const YAML::Mark& mark, std::string key, std::string msg) {
    diags_.error({file_, mark.line + 1, mark.column + 1}, std::move(key), std::move(msg));
  }

  void check_anchor(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor && !anchor_reported_) {
      error(mark, current_path_for_value(), "anchors are not allowed");
    }
    anchor_reported_ = false;
  }

  void check_tag(const YAML::Mark& mark, const std::string& tag) {
    if (tag != "?" && tag != "!" && !tag.empty()) {
      error(mark, current_path_for_value(), "tags (" + tag + ") are not allowed");
    }
  }

  void count(const YAML::Mark& mark) {
    if (++nodes_ > limits_.max_nodes) {
      error(mark, "", "more than " + std::to_string(limits_.max_nodes) + " YAML nodes");
      throw Abort{};
    }
  }

  void add(YamlNode n) {
    YAML::Mark mark;
    mark.line = n.line - 1;
    mark.column = n.col - 1;
    count(mark);
    if (stack_.empty()) {
      root = std::move(n);
      have_root = true;
      return;
    }
    Frame& f = stack_.back();
    YamlNode& parent = *f.node;
    if (parent.kind == YamlNode::Kind::map && parent.children.size() % 2 == 0) {
      // This node is a key.
      if (n.kind != YamlNode::Kind::scalar) {
        error(mark, current_path(), "keys must be strings, not lists or mappings");
        n.kind = YamlNode::Kind::scalar;
        n.value = "?";
        n.children.clear();
      } else {
        auto [it, inserted] = f.keys.emplace(n.value, n.line);
        if (!inserted) {
          std::string path = current_path();
          path += (path.empty() ? "" : ".") + n.value;
          error(mark, path, "duplicate key (first given on line " + std::to_string(it->second) + ")");
        }
      }
    }
    parent.children.push_back(std::move(n));
  }

  void open(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor, YamlNode::Kind kind) {
    check_anchor(mark, anchor);
    check_tag(mark, tag);
    if (static_cast<int>(stack_.size()) >= limits_.max_depth) {
      std::string path = current_path();
      if (path.size() > 40) path = path.substr(0, 40) + "...";
      error(mark, path, "nesting deeper than " + std::to_string(limits_.max_depth) + " levels");
      throw Abort{};
    }
    YamlNode n;
    n.kind = kind;
    set_pos(n, mark);
    add(std::move(n));
    YamlNode* node;
    if (stack_.empty()) {
      node = &root;
    } else {
      node = &stack_.back().node->children.back();
    }
    stack_.push_back({node, {}});
  }

  void close() {
    if (!stack_.empty()) stack_.pop_back();
  }

  const std::string& file_;
  Diagnostics& diags_;
  const YamlLimits& limits_;
  std::vector<Frame> stack_;
  size_t nodes_ = 0;
  bool anchor_reported_ = false;
};

}  // namespace

bool parse_yaml(std::string_view text, const std::string& file, YamlNode& out, Diagnostics& diags,
                const YamlLimits& limits, bool want_map) {
  Diagnostics local;
  if (text.size() > limits.max_bytes) {
    local.error({file, 0, 0}, "", "the file is larger than " + std::to_string(limits.max_bytes >> 10) + " KiB");
    diags.append(local);
    return false;
  }
  scan_bytes(text, file, local);
  if (local.has_errors()) {
    diags.append(local);
    return false;
  }
  std::stringstream stream{std::string(text)};
  TreeBuilder builder(file, local, limits);
  try {
    YAML::Parser parser(stream);
    if (parser.HandleNextDocument(builder)) {
      // A second document is refused; only its start position matters.
      TreeBuilder extra(file, local, limits);
      if (parser.HandleNextDocument(extra)) {
        int line = extra.have_root ? extra.root.line : 0;
        local.error({file, line, extra.have_root ? extra.root.col : 0}, "",
                    "more than one YAML document (only one is allowed)");
      }
    }
  } catch (const Abort&) {
  } catch (const YAML::Exception& e) {
    std::string msg = e.msg;
    local.error({file, e.mark.line + 1, e.mark.column + 1}, builder.current_path(), "YAML syntax error: " + msg);
  }
  if (!local.has_errors() && !builder.have_root && !want_map) {
    builder.root = YamlNode{};
    builder.have_root = true;
  }
  if (!local.has_errors() && !builder.have_root) {
    local.error({file, 1, 1}, "", "the manifest is empty (it needs at least `version: 1`)");
  }
  if (!local.has_errors() && want_map && builder.root.kind != YamlNode::Kind::map) {
    const char* what = builder.root.kind == YamlNode::Kind::seq ? "a list" : "a single value";
    local.error({file, builder.root.line, builder.root.col}, "",
                std::string("the manifest must be a mapping of keys (key: value), not ") + what);
  }
  bool ok = !local.has_errors();
  diags.append(local);
  if (ok) out = std::move(builder.root);
  return ok;
}

bool read_source_file(const std::string& path, std::string& text, Diagnostics& diags, size_t max_bytes) {
  // O_NONBLOCK: a FIFO planted at the path must not hang ctrun before the
  // regular-file check.
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    diags.error({path, 0, 0}, "", std::string("cannot open: ") + std::strerror(errno));
    return false;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    diags.error({path, 0, 0}, "", "not a regular file");
    return false;
  }
  text.clear();
  char buf[65536];
  while (true) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      diags.error({path, 0, 0}, "", std::string("cannot read: ") + std::strerror(err));
      return false;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > max_bytes) break;  // enough to refuse it
  }
  close(fd);
  return true;
}

bool load_yaml_file(const std::string& path, YamlNode& out, Diagnostics& diags, const YamlLimits& limits) {
  std::string text;
  return read_source_file(path, text, diags, limits.max_bytes) && parse_yaml(text, path, out, diags, limits);
}

}  // namespace ctrun::manifest

#include <cctype>

#include "base/text.h"
#include "manifest/reader.h"

namespace ctrun::manifest {

std::optional<std::string> expand_variables(std::string_view text, const EnvLookup& getenv,
                                            std::string& error) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '$') {
      out += c;
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (i + 1 >= text.size() || text[i + 1] != '{') {
      out += c;  // a lone $ stays as it is
      continue;
    }
    size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      error = "unterminated ${ in " + quoted(text);
      return std::nullopt;
    }
    std::string_view body = text.substr(i + 2, close - i - 2);
    std::string_view name = body;
    std::optional<std::string_view> fallback;
    if (size_t sep = body.find(":-"); sep != std::string_view::npos) {
      name = body.substr(0, sep);
      fallback = body.substr(sep + 2);
    }
    bool valid = !name.empty() && !std::isdigit(static_cast<unsigned char>(name[0]));
    for (char n : name) {
      if (!(std::isalnum(static_cast<unsigned char>(n)) || n == '_')) valid = false;
    }
    if (!valid) {
      error = quoted(std::string("${") + std::string(body) + "}") +
              " is not a variable reference (${NAME} or ${NAME:-default})";
      return std::nullopt;
    }
    std::optional<std::string> value = getenv(std::string(name));
    if (value && !value->empty()) {
      out += *value;
    } else if (fallback) {
      out += *fallback;
    } else if (value) {
      out += *value;  // set but empty, no default: empty
    } else {
      error = "environment variable " + std::string(name) + " is not set (write ${" + std::string(name) +
              ":-default} to give a default)";
      return std::nullopt;
    }
    i = close;
  }
  return out;
}

}  // namespace ctrun::manifest

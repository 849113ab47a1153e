#include "tokenizer/utf8.h"

namespace nextn::utf8 {
namespace {

// The well-formed byte sequences of Unicode Table 3-7: the lead byte fixes the length and the
// allowed range of the second byte (which excludes overlongs, surrogates and > U+10FFFF); all
// later bytes are 80..BF.
struct LeadInfo {
  uint8_t length;  // 0: not a lead byte
  uint8_t second_lo;
  uint8_t second_hi;
};

constexpr LeadInfo lead_info(uint8_t b) {
  if (b < 0x80) return {1, 0, 0};
  if (b < 0xC2) return {0, 0, 0};  // continuation bytes and the overlong leads C0, C1
  if (b < 0xE0) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};  // ED A0..BF would encode a surrogate
  if (b < 0xF0) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b < 0xF4) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};  // above U+10FFFF otherwise
  return {0, 0, 0};
}

}  // namespace

Decoded decode_one(std::string_view text, size_t pos) {
  const auto b0 = static_cast<uint8_t>(text[pos]);
  const LeadInfo info = lead_info(b0);
  if (info.length == 1) return {b0, 1, Status::kValid};
  if (info.length == 0) return {0, 1, Status::kInvalid};
  char32_t cp = b0 & (0xFF >> (info.length + 1));
  for (uint32_t k = 1; k < info.length; ++k) {
    if (pos + k >= text.size()) return {0, k, Status::kTruncated};
    const auto b = static_cast<uint8_t>(text[pos + k]);
    const uint8_t lo = k == 1 ? info.second_lo : 0x80;
    const uint8_t hi = k == 1 ? info.second_hi : 0xBF;
    if (b < lo || b > hi) return {0, k, Status::kInvalid};
    cp = (cp << 6) | (b & 0x3F);
  }
  return {cp, info.length, Status::kValid};
}

void append(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool is_valid(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    if (static_cast<uint8_t>(text[pos]) < 0x80) {  // ASCII runs are the common case
      ++pos;
      continue;
    }
    const Decoded d = decode_one(text, pos);
    if (d.status != Status::kValid) return false;
    pos += d.length;
  }
  return true;
}

size_t append_complete(std::string_view text, std::string& out) {
  size_t pos = 0;
  size_t run_start = 0;  // start of the valid run not yet copied
  while (pos < text.size()) {
    if (static_cast<uint8_t>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const Decoded d = decode_one(text, pos);
    if (d.status == Status::kValid) {
      pos += d.length;
      continue;
    }
    out.append(text.substr(run_start, pos - run_start));
    if (d.status == Status::kTruncated) return d.length;
    out.append(kReplacementUtf8);
    pos += d.length;
    run_start = pos;
  }
  out.append(text.substr(run_start));
  return 0;
}

std::string to_valid(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  // A truncated tail is one maximal subpart as well once the text is known to end.
  if (append_complete(text, out) > 0) out.append(kReplacementUtf8);
  return out;
}

size_t count_code_points(std::string_view valid_text) {
  size_t n = 0;
  for (const char c : valid_text) n += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace nextn::utf8

#include "tokenizer/pre_tokenizer.h"

#include <algorithm>

#include <utf8proc.h>

#include "core/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/utf8.h"

namespace nextn {
namespace {

// GPT-2's split pattern, which HF's ByteLevel pre-tokenizer applies when use_regex is true.
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
// HF's Whitespace pre-tokenizer: words and runs of other non-space characters.
constexpr std::string_view kWhitespacePattern = R"(\w+|[^\w\s]+)";

SplitBehavior parse_behavior(const tokenizer_json::Field& field) {
  const std::string name = field.as_string();
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  field.fail(
      fmt::format("unknown split behavior '{}' (expected Isolated, Removed, "
                  "MergedWithPrevious, MergedWithNext or Contiguous)",
                  name));
}

// Rust's char::is_numeric: the N* general categories.
bool is_numeric(char32_t c) {
  if (c < 0x80) return c >= '0' && c <= '9';
  const utf8proc_category_t cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO;
}

// Cuts `text` into maximal runs of characters on which `pred` agrees; runs where it holds are
// "matches". With `each`, every matching character is its own part.
template <typename Pred>
std::vector<SplitPart> parts_by_char(std::string_view text, Pred pred, bool each) {
  std::vector<SplitPart> parts;
  for (size_t pos = 0; pos < text.size();) {
    const utf8::Decoded d = utf8::decode_one(text, pos);
    const bool m = pred(d.code_point);
    if (!parts.empty() && parts.back().is_match == m && !(m && each)) {
      parts.back().end = pos + d.length;
    } else {
      parts.push_back({pos, pos + d.length, m});
    }
    pos += d.length;
  }
  return parts;
}

std::vector<SplitPart> parts_by_regex(std::string_view text, const Regex& regex, bool invert) {
  std::vector<Regex::Span> spans;
  regex.find_all(text, spans);
  std::vector<SplitPart> parts;
  parts.reserve(2 * spans.size() + 1);
  size_t prev = 0;
  for (const Regex::Span& s : spans) {
    if (s.start > prev) parts.push_back({prev, s.start, invert});
    parts.push_back({s.start, s.end, !invert});
    prev = s.end;
  }
  if (prev < text.size()) parts.push_back({prev, text.size(), invert});
  return parts;
}

}  // namespace

void apply_split_behavior(std::string_view text, const std::vector<SplitPart>& parts,
                          SplitBehavior behavior, std::vector<std::string>& out) {
  // Ranges after merging, in order; built per behaviour as HF's Rust fold does.
  std::vector<std::pair<size_t, size_t>> ranges;
  ranges.reserve(parts.size());
  switch (behavior) {
    case SplitBehavior::kIsolated:
      for (const SplitPart& p : parts) ranges.emplace_back(p.start, p.end);
      break;
    case SplitBehavior::kRemoved:
      for (const SplitPart& p : parts) {
        if (!p.is_match) ranges.emplace_back(p.start, p.end);
      }
      break;
    case SplitBehavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (const SplitPart& p : parts) {
        if (p.is_match && !previous_match && !ranges.empty()) {
          ranges.back().second = p.end;
        } else {
          ranges.emplace_back(p.start, p.end);
        }
        previous_match = p.is_match;
      }
      break;
    }
    case SplitBehavior::kMergedWithNext: {
      // Mirror image of MergedWithPrevious: walk backwards, then restore the order.
      bool previous_match = false;
      for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
        if (it->is_match && !previous_match && !ranges.empty()) {
          ranges.back().first = it->start;
        } else {
          ranges.emplace_back(it->start, it->end);
        }
        previous_match = it->is_match;
      }
      std::reverse(ranges.begin(), ranges.end());
      break;
    }
    case SplitBehavior::kContiguous: {
      bool previous_match = false;
      for (const SplitPart& p : parts) {
        if (p.is_match == previous_match && !ranges.empty()) {
          ranges.back().second = p.end;
        } else {
          ranges.emplace_back(p.start, p.end);
        }
        previous_match = p.is_match;
      }
      break;
    }
  }
  for (const auto& [start, end] : ranges) {
    if (end > start) out.emplace_back(text.substr(start, end - start));
  }
}

PreTokenizer PreTokenizer::from_json(const tokenizer_json::Field& field) {
  PreTokenizer p;
  if (!field.is_null()) p.add(field);
  return p;
}

void PreTokenizer::add(const tokenizer_json::Field& field) {
  field.expect_object();
  const tokenizer_json::Field type_field = field.at("type", "a pre-tokenizer type");
  const std::string type = type_field.as_string();
  if (type == "Sequence") {
    const tokenizer_json::Field list = field.at("pretokenizers", "a list of pre-tokenizers");
    list.expect_array();
    for (size_t i = 0; i < list.json().size(); ++i) add(list.element(i));
  } else if (type == "Split") {
    steps_.push_back(Split{pattern_from_json(field.at("pattern", "a pattern object")),
                           parse_behavior(field.at("behavior", "a split behavior")),
                           field.bool_or("invert", false)});
  } else if (type == "ByteLevel") {
    const bool use_regex = field.bool_or("use_regex", true);
    if (use_regex && gpt2_pattern_.pattern().empty()) {
      gpt2_pattern_ = Regex::compile(kGpt2Pattern, "ByteLevel pre-tokenizer");
    }
    steps_.push_back(ByteLevel{field.bool_or("add_prefix_space", true), use_regex});
  } else if (type == "Digits") {
    steps_.push_back(Digits{field.bool_or("individual_digits", false)});
  } else if (type == "Whitespace") {
    steps_.push_back(Split{Regex::compile(kWhitespacePattern, "Whitespace pre-tokenizer"),
                           SplitBehavior::kRemoved, true});
  } else if (type == "WhitespaceSplit") {
    steps_.push_back(Split{Regex::compile(R"(\s+)", "WhitespaceSplit pre-tokenizer"),
                           SplitBehavior::kRemoved, false});
  } else {
    type_field.fail(
        fmt::format("unsupported pre-tokenizer type '{}' (nextn supports Sequence, "
                    "Split, ByteLevel, Digits, Whitespace, WhitespaceSplit)",
                    type));
  }
}

void PreTokenizer::apply_step(const Step& step, std::string_view piece,
                              std::vector<std::string>& out) const {
  if (const auto* split = std::get_if<Split>(&step)) {
    apply_split_behavior(piece, parts_by_regex(piece, split->pattern, split->invert),
                         split->behavior, out);
  } else if (const auto* digits = std::get_if<Digits>(&step)) {
    apply_split_behavior(piece, parts_by_char(piece, is_numeric, digits->individual),
                         digits->individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous,
                         out);
  } else if (const auto* bl = std::get_if<ByteLevel>(&step)) {
    std::string text;
    if (bl->add_prefix_space && !piece.starts_with(' ')) text.push_back(' ');
    text.append(piece);
    std::vector<std::string> raw;
    if (bl->use_regex) {
      apply_split_behavior(text, parts_by_regex(text, gpt2_pattern_, false),
                           SplitBehavior::kIsolated, raw);
    } else {
      raw.push_back(std::move(text));
    }
    for (const std::string& r : raw) {
      std::string mapped;
      mapped.reserve(r.size() * 2);
      byte_level::encode(r, mapped);
      out.push_back(std::move(mapped));
    }
  }
}

void PreTokenizer::apply(std::string_view text, std::vector<std::string>& out) const {
  if (steps_.empty()) {
    if (!text.empty()) out.emplace_back(text);
    return;
  }
  std::vector<std::string> current{std::string(text)};
  std::vector<std::string> next;
  for (const Step& step : steps_) {
    next.clear();
    for (const std::string& piece : current) apply_step(step, piece, next);
    current.swap(next);
  }
  for (std::string& piece : current) out.push_back(std::move(piece));
}

}  // namespace nextn

#include "chat/expression_parser.h"

#include <algorithm>
#include <charconv>

#include "chat/builtins.h"

namespace nextn::chat {

ExprPtr ExpressionParser::node(K kind, Offset offset) {
  auto e = std::make_unique<Expr>();
  e->kind = kind;
  e->offset = offset;
  return e;
}

// Sets e's height from its children and enforces the bound that keeps evaluation shallow.
ExprPtr ExpressionParser::finish(ExprPtr e) {
  uint32_t h = 0;
  const auto take = [&h](const ExprPtr& child) {
    if (child) h = std::max(h, child->height);
  };
  take(e->object);
  take(e->index);
  for (const auto& item : e->items) take(item);
  for (const auto& arg : e->args) take(arg.value);
  e->height = h + 1;
  if (e->height > kMaxExprHeight) {
    fail_at(e->offset, "expression nested more than {} deep", kMaxExprHeight);
  }
  return e;
}

ExprPtr ExpressionParser::unary(K kind, Offset offset, ExprPtr operand) {
  auto e = node(kind, offset);
  e->object = std::move(operand);
  return finish(std::move(e));
}

ExprPtr ExpressionParser::binary(BinaryOp op, Offset offset, ExprPtr left, ExprPtr right) {
  auto e = node(K::kBinary, offset);
  e->op = op;
  e->object = std::move(left);
  e->index = std::move(right);
  return finish(std::move(e));
}

// `a, b, c` (a tuple) or a single expression; `primary` restricts items to primaries (for
// loop targets, where `in` must not be taken as an operator).
ExprPtr ExpressionParser::parse_sequence(bool primary) {
  const Offset at0 = here();
  ExprPtr first = primary ? parse_primary() : parse_expression();
  if (!at(T::kComma)) return first;
  auto tuple = node(K::kTuple, at0);
  tuple->items.push_back(std::move(first));
  while (at(T::kComma)) {
    ++pos_;
    tuple->items.push_back(primary ? parse_primary() : parse_expression());
  }
  return finish(std::move(tuple));
}

ExprPtr ExpressionParser::parse_expression() {
  Depth depth(*this);
  ExprPtr value = parse_or();
  if (!at_word("if")) return value;
  const Offset at_if = here();
  ++pos_;
  auto e = node(K::kConditional, at_if);
  e->object = std::move(value);
  e->index = parse_or();
  if (at_word("else")) {
    ++pos_;
    e->items.push_back(parse_expression());
  }
  return finish(std::move(e));
}

ExprPtr ExpressionParser::parse_or() {
  ExprPtr left = parse_and();
  while (at_word("or")) {
    const Offset at_op = here();
    ++pos_;
    left = binary(BinaryOp::kOr, at_op, std::move(left), parse_and());
  }
  return left;
}

ExprPtr ExpressionParser::parse_and() {
  ExprPtr left = parse_not();
  while (at_word("and")) {
    const Offset at_op = here();
    ++pos_;
    left = binary(BinaryOp::kAnd, at_op, std::move(left), parse_not());
  }
  return left;
}

ExprPtr ExpressionParser::parse_not() {
  if (!at_word("not")) return parse_comparison();
  Depth depth(*this);
  const Offset at_op = here();
  ++pos_;
  return unary(K::kNot, at_op, parse_not());
}

ExprPtr ExpressionParser::parse_comparison() {
  ExprPtr left = parse_additive();
  while (true) {
    const Offset at_op = here();
    BinaryOp op;
    if (at_word("not") && at_word("in", 1)) {
      op = BinaryOp::kNotIn;
      pos_ += 2;
    } else if (at_word("in")) {
      op = BinaryOp::kIn;
      ++pos_;
    } else if (at(T::kComparison)) {
      const std::string& v = tokens_[pos_++].value;
      op = v == "==" ? BinaryOp::kEq : v == "!=" ? BinaryOp::kNe : v == "<" ? BinaryOp::kLt
         : v == ">" ? BinaryOp::kGt : v == "<=" ? BinaryOp::kLe : BinaryOp::kGe;
    } else {
      return left;
    }
    left = binary(op, at_op, std::move(left), parse_additive());
  }
}

ExprPtr ExpressionParser::parse_additive() {
  ExprPtr left = parse_multiplicative();
  while (at(T::kAdditive)) {
    const Offset at_op = here();
    const std::string& v = tokens_[pos_++].value;
    const BinaryOp op = v == "+" ? BinaryOp::kAdd : v == "-" ? BinaryOp::kSub : BinaryOp::kConcat;
    left = binary(op, at_op, std::move(left), parse_multiplicative());
  }
  return left;
}

ExprPtr ExpressionParser::parse_multiplicative() {
  ExprPtr left = parse_power();
  while (at(T::kMultiplicative)) {
    const Offset at_op = here();
    const std::string& v = tokens_[pos_++].value;
    const BinaryOp op = v == "*" ? BinaryOp::kMul : v == "/" ? BinaryOp::kDiv
                      : v == "//" ? BinaryOp::kFloorDiv : BinaryOp::kMod;
    left = binary(op, at_op, std::move(left), parse_power());
  }
  return left;
}

ExprPtr ExpressionParser::parse_power() {
  ExprPtr left = parse_test();
  while (at(T::kPower)) {
    const Offset at_op = here();
    ++pos_;
    left = binary(BinaryOp::kPow, at_op, std::move(left), parse_test());
  }
  return left;
}

ExprPtr ExpressionParser::parse_test() {
  ExprPtr operand = parse_filter();
  while (at_word("is")) {
    ++pos_;
    auto e = node(K::kTest, here());
    if (at_word("not")) {
      e->negate = true;
      ++pos_;
    }
    e->offset = here();
    e->name = expect_name("a test name after 'is'");
    if (!is_known_test(e->name)) fail_at(e->offset, "unknown test '{}'", e->name);
    e->object = std::move(operand);
    operand = finish(std::move(e));
  }
  return operand;
}

ExprPtr ExpressionParser::parse_filter() {
  ExprPtr operand = parse_sign();
  while (at(T::kPipe)) {
    ++pos_;
    auto e = node(K::kFilter, here());
    e->name = expect_name("a filter name after '|'");
    if (!is_known_filter(e->name)) fail_at(e->offset, "unknown filter '{}'", e->name);
    if (at(T::kOpenParen)) e->args = parse_call_args();
    e->object = std::move(operand);
    operand = finish(std::move(e));
  }
  return operand;
}

ExprPtr ExpressionParser::parse_sign() {
  const Token* t = peek();
  if (t != nullptr && (t->type == T::kUnary || t->type == T::kAdditive) &&
      (t->value == "-" || t->value == "+")) {
    Depth depth(*this);
    const Offset at_op = t->offset;
    const bool minus = t->value == "-";
    ++pos_;
    return unary(minus ? K::kNegate : K::kPlus, at_op, parse_sign());
  }
  return parse_postfix(parse_primary());
}

// Member access, subscripts, slices and calls, left to right.
ExprPtr ExpressionParser::parse_postfix(ExprPtr e) {
  while (true) {
    if (at(T::kDot)) {
      ++pos_;
      auto m = node(K::kAttribute, here());
      if (at(T::kIdentifier)) {
        m->name = tokens_[pos_++].value;
      } else if (at(T::kNumber) && tokens_[pos_].value.find('.') == std::string::npos) {
        m->name = tokens_[pos_++].value;
        m->index_literal = true;  // x.0 is x[0]
        m->literal = parse_int(m->name, m->offset);
      } else {
        fail_at(here(), "expected an attribute name after '.', found {}", describe_here());
      }
      m->object = std::move(e);
      e = finish(std::move(m));
    } else if (at(T::kOpenSquare)) {
      e = parse_subscript(std::move(e));
    } else if (at(T::kOpenParen)) {
      auto c = node(K::kCall, here());
      c->args = parse_call_args();
      c->object = std::move(e);
      e = finish(std::move(c));
    } else {
      return e;
    }
  }
}

ExprPtr ExpressionParser::parse_subscript(ExprPtr object) {
  const Offset at_open = here();
  ++pos_;
  Depth depth(*this);
  ExprPtr parts[3];
  int part = 0;
  bool slice = false;
  while (!at(T::kCloseSquare)) {
    if (at(T::kColon)) {
      ++pos_;
      slice = true;
      if (++part > 2) fail_at(here(), "a slice takes at most three parts");
      continue;
    }
    if (parts[part]) fail_at(here(), "expected ']' or ':', found {}", describe_here());
    if (pos_ >= tokens_.size()) break;
    parts[part] = parse_expression();
  }
  expect(T::kCloseSquare, "']'");
  if (!slice && !parts[0]) fail_at(at_open, "empty subscript '[]'");
  auto e = node(slice ? K::kSlice : K::kSubscript, at_open);
  e->object = std::move(object);
  if (slice) {
    for (auto& p : parts) e->items.push_back(std::move(p));
  } else {
    e->index = std::move(parts[0]);
  }
  return finish(std::move(e));
}

std::vector<Arg> ExpressionParser::parse_call_args() {
  expect(T::kOpenParen, "'('");
  Depth depth(*this);
  std::vector<Arg> args;
  bool saw_keyword = false;
  while (!at(T::kCloseParen)) {
    const Offset arg_at = here();
    if (at(T::kMultiplicative) && tokens_[pos_].value == "*") {
      fail_at(arg_at, "unsupported argument unpacking '*'");
    }
    if (at(T::kPower)) fail_at(arg_at, "unsupported argument unpacking '**'");
    Arg arg;
    if (at(T::kIdentifier) && at(T::kEquals, 1)) {
      arg.name = tokens_[pos_].value;
      pos_ += 2;
      for (const Arg& other : args) {
        if (other.name == arg.name) fail_at(arg_at, "keyword argument '{}' repeated", arg.name);
      }
      saw_keyword = true;
    } else if (saw_keyword) {
      fail_at(arg_at, "positional argument follows keyword argument");
    }
    arg.value = parse_expression();
    args.push_back(std::move(arg));
    if (!at(T::kComma)) break;
    ++pos_;
  }
  expect(T::kCloseParen, "')' or ','");
  return args;
}

Value ExpressionParser::parse_int(const std::string& digits, Offset at) {
  int64_t v = 0;
  const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) {
    fail_at(at, "integer literal {} out of range", digits);
  }
  return Value(v);
}

ExprPtr ExpressionParser::parse_primary() {
  if (pos_ >= tokens_.size()) fail_at(end_, "unexpected end of template in an expression");
  const Token& t = tokens_[pos_];
  switch (t.type) {
    case T::kNumber: {
      ++pos_;
      auto e = node(K::kLiteral, t.offset);
      if (t.value.find('.') == std::string::npos) {
        e->literal = parse_int(t.value, t.offset);
      } else {
        double d = 0;
        std::from_chars(t.value.data(), t.value.data() + t.value.size(), d);
        e->literal = Value(d);
      }
      return e;
    }
    case T::kString: {
      std::string value;
      while (at(T::kString)) value += tokens_[pos_++].value;  // 'a' "b" is 'ab'
      auto e = node(K::kLiteral, t.offset);
      e->literal = Value(std::move(value));
      return e;
    }
    case T::kIdentifier: {
      ++pos_;
      auto e = node(K::kVariable, t.offset);
      e->name = t.value;
      return e;
    }
    case T::kOpenParen: {
      ++pos_;
      Depth depth(*this);
      ExprPtr inner = parse_sequence(false);
      expect(T::kCloseParen, "')'");
      return inner;
    }
    case T::kOpenSquare: {
      ++pos_;
      Depth depth(*this);
      auto e = node(K::kList, t.offset);
      while (!at(T::kCloseSquare)) {
        e->items.push_back(parse_expression());
        if (!at(T::kComma)) break;
        ++pos_;
      }
      expect(T::kCloseSquare, "']' or ','");
      return finish(std::move(e));
    }
    case T::kOpenCurly: {
      ++pos_;
      Depth depth(*this);
      auto e = node(K::kDict, t.offset);
      while (!at(T::kCloseCurly)) {
        e->items.push_back(parse_expression());
        expect(T::kColon, "':' after a dict key");
        e->items.push_back(parse_expression());
        if (!at(T::kComma)) break;
        ++pos_;
      }
      expect(T::kCloseCurly, "'}' or ','");
      return finish(std::move(e));
    }
    default:
      fail_at(t.offset, "unexpected {} in an expression", describe_here());
  }
}

}  // namespace nextn::chat

#include "chat/parser.h"

#include <charconv>
#include <initializer_list>
#include <utility>

#include "chat/builtins.h"
#include "chat/lexer.h"

namespace nextn::chat {
namespace {

using K = Expr::Kind;
using T = TokenType;

// Statements Jinja has that this engine does not: named, so the error says what is missing
// rather than "unknown statement".
constexpr std::string_view kUnsupportedStatements[] = {
    "call", "include", "import", "from", "extends", "block", "raw", "with", "autoescape", "do",
    "trans", "generation"};
constexpr std::string_view kEndKeywords[] = {
    "endif", "elif", "else", "endfor", "endset", "endmacro", "endfilter", "endcall",
    "endblock", "endraw", "endwith"};

class Parser {
 public:
  Parser(std::vector<Token> tokens, Offset end) : tokens_(std::move(tokens)), end_(end) {}

  Block run() {
    Block program;
    while (pos_ < tokens_.size()) {
      if (StmtPtr s = parse_any()) program.push_back(std::move(s));
    }
    return program;
  }

 private:
  // ---- token helpers ----
  const Token* peek(size_t ahead = 0) const {
    return pos_ + ahead < tokens_.size() ? &tokens_[pos_ + ahead] : nullptr;
  }
  bool at(T type, size_t ahead = 0) const {
    const Token* t = peek(ahead);
    return t != nullptr && t->type == type;
  }
  bool at_word(std::string_view word, size_t ahead = 0) const {
    const Token* t = peek(ahead);
    return t != nullptr && t->type == T::kIdentifier && t->value == word;
  }
  Offset here() const { return pos_ < tokens_.size() ? tokens_[pos_].offset : end_; }

  std::string describe_here() const {
    const Token* t = peek();
    if (t == nullptr) return "end of template";
    switch (t->type) {
      case T::kText: return "text";
      case T::kComment: return "comment";
      case T::kString: return "string literal";
      case T::kNumber: return "number " + t->value;
      case T::kIdentifier: return "'" + t->value + "'";
      default: return "'" + t->value + "'";
    }
  }

  const Token& expect(T type, std::string_view what) {
    if (!at(type)) fail_at(here(), "expected {}, found {}", what, describe_here());
    return tokens_[pos_++];
  }
  void expect_word(std::string_view word) {
    if (!at_word(word)) fail_at(here(), "expected '{}', found {}", word, describe_here());
    ++pos_;
  }
  std::string expect_name(std::string_view what) {
    return expect(T::kIdentifier, what).value;
  }

  // Is the next tag `{% name %}` for one of names?
  bool at_statement(std::initializer_list<std::string_view> names) const {
    if (!at(T::kOpenStatement) || !at(T::kIdentifier, 1)) return false;
    for (const std::string_view n : names) {
      if (tokens_[pos_ + 1].value == n) return true;
    }
    return false;
  }

  struct Nesting {
    explicit Nesting(Parser& p) : p_(p) {
      if (++p_.nesting_ > kMaxBlockNesting) {
        fail_at(p_.here(), "blocks nested more than {} deep", kMaxBlockNesting);
      }
    }
    ~Nesting() { --p_.nesting_; }
    Parser& p_;
  };

  // ---- statements ----
  StmtPtr parse_any() {
    const Token& t = tokens_[pos_];
    switch (t.type) {
      case T::kComment:
        ++pos_;
        return nullptr;
      case T::kText: {
        auto s = stmt(Stmt::Kind::kText, t.offset);
        s->text = t.value;
        ++pos_;
        return s;
      }
      case T::kOpenExpression: {
        auto s = stmt(Stmt::Kind::kOutput, t.offset);
        ++pos_;
        s->expr = parse_expression();
        expect(T::kCloseExpression, "'}}'");
        return s;
      }
      case T::kOpenStatement:
        return parse_statement();
      default:
        fail_at(t.offset, "unexpected {}", describe_here());
    }
  }

  static StmtPtr stmt(Stmt::Kind kind, Offset offset) {
    auto s = std::make_unique<Stmt>();
    s->kind = kind;
    s->offset = offset;
    return s;
  }

  // Statements up to the next `{% name %}` with name in `ends` (not consumed).
  // `closer` is the tag that ends the whole statement, named in the error when it is missing.
  Block parse_block(std::initializer_list<std::string_view> ends, std::string_view opener,
                    std::string_view closer, Offset opener_at) {
    Nesting nesting(*this);
    Block block;
    while (!at_statement(ends)) {
      if (pos_ >= tokens_.size()) {
        fail_at(opener_at, "'{{% {} %}}' is never closed (expected '{{% {} %}}')", opener, closer);
      }
      if (StmtPtr s = parse_any()) block.push_back(std::move(s));
    }
    return block;
  }

  // Consumes `{% word %}`.
  void expect_end(std::string_view word) {
    expect(T::kOpenStatement, "'{%'");
    expect_word(word);
    expect(T::kCloseStatement, "'%}'");
  }

  StmtPtr parse_statement() {
    const Offset at_open = tokens_[pos_].offset;
    ++pos_;
    if (!at(T::kIdentifier)) fail_at(here(), "expected a statement name, found {}", describe_here());
    const std::string name = tokens_[pos_].value;
    const Offset at_name = here();
    ++pos_;
    if (name == "set") return parse_set(at_open);
    if (name == "if") {
      StmtPtr s = parse_if(at_open);
      expect_end("endif");
      return s;
    }
    if (name == "for") return parse_for(at_open);
    if (name == "macro") return parse_macro(at_open);
    if (name == "filter") return parse_filter_block(at_open);
    if (name == "break" || name == "continue") {
      if (loop_depth_ == 0) fail_at(at_name, "'{}' outside a for loop", name);
      expect(T::kCloseStatement, "'%}'");
      return stmt(name == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue, at_open);
    }
    for (const std::string_view u : kUnsupportedStatements) {
      if (name == u) fail_at(at_name, "unsupported statement '{{% {} %}}'", name);
    }
    for (const std::string_view e : kEndKeywords) {
      if (name == e) fail_at(at_name, "unexpected '{{% {} %}}' without a matching block", name);
    }
    fail_at(at_name, "unknown statement '{{% {} %}}'", name);
  }

  StmtPtr parse_set(Offset at_open) {
    const Offset target_at = here();
    ExprPtr target = parse_sequence(false);
    check_assignable(*target, target_at);
    if (at(T::kEquals)) {
      ++pos_;
      auto s = stmt(Stmt::Kind::kSet, at_open);
      s->target = std::move(target);
      s->expr = parse_sequence(false);
      expect(T::kCloseStatement, "'%}'");
      return s;
    }
    expect(T::kCloseStatement, "'=' or '%}'");
    auto s = stmt(Stmt::Kind::kSetBlock, at_open);
    s->target = std::move(target);
    s->body = parse_block({"endset"}, "set", "endset", at_open);
    expect_end("endset");
    return s;
  }

  static void check_assignable(const Expr& e, Offset at) {
    if (e.kind == K::kVariable) return;
    if (e.kind == K::kAttribute && !e.index_literal) return;  // ns.attr
    if (e.kind == K::kTuple) {
      for (const auto& item : e.items) {
        if (item->kind != K::kVariable) fail_at(item->offset, "can only unpack into names");
      }
      return;
    }
    fail_at(at, "cannot assign to this expression (only to a name, names or namespace.attribute)");
  }

  // After `{% if` or `{% elif`; the caller consumes `{% endif %}`.
  StmtPtr parse_if(Offset at_open) {
    auto s = stmt(Stmt::Kind::kIf, at_open);
    s->expr = parse_expression();
    expect(T::kCloseStatement, "'%}'");
    s->body = parse_block({"elif", "else", "endif"}, "if", "endif", at_open);
    if (at_statement({"elif"})) {
      const Offset elif_at = here();
      pos_ += 2;
      s->orelse.push_back(parse_if(elif_at));
    } else if (at_statement({"else"})) {
      pos_ += 2;
      expect(T::kCloseStatement, "'%}'");
      s->orelse = parse_block({"endif"}, "if", "endif", at_open);
    }
    return s;
  }

  StmtPtr parse_for(Offset at_open) {
    auto s = stmt(Stmt::Kind::kFor, at_open);
    const Offset target_at = here();
    s->target = parse_sequence(true);
    if (s->target->kind != K::kVariable) {
      if (s->target->kind != K::kTuple) fail_at(target_at, "expected loop variable name(s)");
      check_assignable(*s->target, target_at);
    }
    expect_word("in");
    s->expr = parse_expression();
    // `for x in xs if cond` filters the items (and loop.length counts only those).
    if (s->expr->kind == K::kConditional && s->expr->items.empty()) {
      ExprPtr conditional = std::move(s->expr);
      s->expr = std::move(conditional->object);
      s->condition = std::move(conditional->index);
    }
    expect(T::kCloseStatement, "'%}'");
    ++loop_depth_;
    s->body = parse_block({"endfor", "else"}, "for", "endfor", at_open);
    --loop_depth_;
    if (at_statement({"else"})) {
      pos_ += 2;
      expect(T::kCloseStatement, "'%}'");
      s->orelse = parse_block({"endfor"}, "for", "endfor", at_open);
    }
    expect_end("endfor");
    return s;
  }

  StmtPtr parse_macro(Offset at_open) {
    auto s = stmt(Stmt::Kind::kMacro, at_open);
    s->name = expect_name("a macro name");
    expect(T::kOpenParen, "'(' after the macro name");
    bool saw_default = false;
    while (!at(T::kCloseParen)) {
      const Offset param_at = here();
      Arg param{expect_name("a parameter name"), nullptr};
      for (const Arg& other : s->args) {
        if (other.name == param.name) fail_at(param_at, "duplicate parameter '{}'", param.name);
      }
      if (at(T::kEquals)) {
        ++pos_;
        param.value = parse_expression();
        saw_default = true;
      } else if (saw_default) {
        fail_at(param_at, "parameter '{}' without a default follows one with a default",
                param.name);
      }
      s->args.push_back(std::move(param));
      if (!at(T::kComma)) break;
      ++pos_;
    }
    expect(T::kCloseParen, "')' or ','");
    expect(T::kCloseStatement, "'%}'");
    // A macro body is its own function: break/continue cannot reach a loop around it.
    const int saved_loops = std::exchange(loop_depth_, 0);
    s->body = parse_block({"endmacro"}, "macro", "endmacro", at_open);
    loop_depth_ = saved_loops;
    expect_end("endmacro");
    return s;
  }

  StmtPtr parse_filter_block(Offset at_open) {
    auto s = stmt(Stmt::Kind::kFilterBlock, at_open);
    const Offset name_at = here();
    s->name = expect_name("a filter name");
    if (!is_known_filter(s->name)) fail_at(name_at, "unknown filter '{}'", s->name);
    if (at(T::kOpenParen)) s->args = parse_call_args();
    expect(T::kCloseStatement, "'%}'");
    s->body = parse_block({"endfilter"}, "filter", "endfilter", at_open);
    expect_end("endfilter");
    return s;
  }

  // ---- expressions ----
  ExprPtr node(K kind, Offset offset) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->offset = offset;
    return e;
  }

  // Sets e's height from its children and enforces the bound that keeps evaluation shallow.
  ExprPtr finish(ExprPtr e) {
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

  ExprPtr unary(K kind, Offset offset, ExprPtr operand) {
    auto e = node(kind, offset);
    e->object = std::move(operand);
    return finish(std::move(e));
  }

  ExprPtr binary(BinaryOp op, Offset offset, ExprPtr left, ExprPtr right) {
    auto e = node(K::kBinary, offset);
    e->op = op;
    e->object = std::move(left);
    e->index = std::move(right);
    return finish(std::move(e));
  }

  struct Depth {
    explicit Depth(Parser& p) : p_(p) {
      if (++p_.expr_depth_ > static_cast<int>(kMaxExprHeight)) {
        fail_at(p_.here(), "expression nested more than {} deep", kMaxExprHeight);
      }
    }
    ~Depth() { --p_.expr_depth_; }
    Parser& p_;
  };

  // `a, b, c` (a tuple) or a single expression; `primary` restricts items to primaries (for
  // loop targets, where `in` must not be taken as an operator).
  ExprPtr parse_sequence(bool primary) {
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

  ExprPtr parse_expression() {
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

  ExprPtr parse_or() {
    ExprPtr left = parse_and();
    while (at_word("or")) {
      const Offset at_op = here();
      ++pos_;
      left = binary(BinaryOp::kOr, at_op, std::move(left), parse_and());
    }
    return left;
  }

  ExprPtr parse_and() {
    ExprPtr left = parse_not();
    while (at_word("and")) {
      const Offset at_op = here();
      ++pos_;
      left = binary(BinaryOp::kAnd, at_op, std::move(left), parse_not());
    }
    return left;
  }

  ExprPtr parse_not() {
    if (!at_word("not")) return parse_comparison();
    Depth depth(*this);
    const Offset at_op = here();
    ++pos_;
    return unary(K::kNot, at_op, parse_not());
  }

  ExprPtr parse_comparison() {
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

  ExprPtr parse_additive() {
    ExprPtr left = parse_multiplicative();
    while (at(T::kAdditive)) {
      const Offset at_op = here();
      const std::string& v = tokens_[pos_++].value;
      const BinaryOp op = v == "+" ? BinaryOp::kAdd : v == "-" ? BinaryOp::kSub : BinaryOp::kConcat;
      left = binary(op, at_op, std::move(left), parse_multiplicative());
    }
    return left;
  }

  ExprPtr parse_multiplicative() {
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

  ExprPtr parse_power() {
    ExprPtr left = parse_test();
    while (at(T::kPower)) {
      const Offset at_op = here();
      ++pos_;
      left = binary(BinaryOp::kPow, at_op, std::move(left), parse_test());
    }
    return left;
  }

  ExprPtr parse_test() {
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

  ExprPtr parse_filter() {
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

  ExprPtr parse_sign() {
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
  ExprPtr parse_postfix(ExprPtr e) {
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

  ExprPtr parse_subscript(ExprPtr object) {
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

  std::vector<Arg> parse_call_args() {
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

  static Value parse_int(const std::string& digits, Offset at) {
    int64_t v = 0;
    const auto r = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (r.ec != std::errc() || r.ptr != digits.data() + digits.size()) {
      fail_at(at, "integer literal {} out of range", digits);
    }
    return Value(v);
  }

  ExprPtr parse_primary() {
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

  std::vector<Token> tokens_;
  Offset end_;
  size_t pos_ = 0;
  int nesting_ = 0;
  int expr_depth_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Block parse_template(std::string_view source) {
  return Parser(tokenize(source), static_cast<Offset>(source.size())).run();
}

}  // namespace nextn::chat

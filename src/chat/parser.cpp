#include "chat/parser.h"

#include <initializer_list>
#include <utility>

#include "chat/builtins.h"
#include "chat/expression_parser.h"
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

class Parser : public ExpressionParser {
 public:
  Parser(std::vector<Token> tokens, Offset end) : ExpressionParser(std::move(tokens), end) {}

  Block run() {
    Block program;
    while (pos_ < tokens_.size()) {
      if (StmtPtr s = parse_any()) program.push_back(std::move(s));
    }
    return program;
  }


 private:
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

  int nesting_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

Block parse_template(std::string_view source) {
  return Parser(tokenize(source), static_cast<Offset>(source.size())).run();
}

}  // namespace nextn::chat

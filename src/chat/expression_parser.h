// Expression half of the chat-template parser (see parser.h for the grammar): precedence
// climbing from `x if c else y` down to primaries, with the height of every tree bounded.
#pragma once

#include <vector>

#include "chat/ast.h"
#include "chat/parser.h"
#include "chat/token_stream.h"

namespace nextn::chat {

class ExpressionParser : protected TokenStream {
 protected:
  using K = Expr::Kind;
  using TokenStream::TokenStream;

  // `a, b, c` (a tuple) or a single expression; `primary` restricts items to primaries (for
  // loop targets, where `in` must not be taken as an operator).
  ExprPtr parse_sequence(bool primary);
  ExprPtr parse_expression();
  std::vector<Arg> parse_call_args();
  ExprPtr parse_primary();

 private:
  // Bounds the recursion of the parser itself (parentheses, unary chains, nested literals).
  struct Depth {
    explicit Depth(ExpressionParser& p) : p_(p) {
      if (++p_.expr_depth_ > static_cast<int>(kMaxExprHeight)) {
        fail_at(p_.here(), "expression nested more than {} deep", kMaxExprHeight);
      }
    }
    ~Depth() { --p_.expr_depth_; }
    ExpressionParser& p_;
  };

  ExprPtr node(K kind, Offset offset);
  ExprPtr finish(ExprPtr e);
  ExprPtr unary(K kind, Offset offset, ExprPtr operand);
  ExprPtr binary(BinaryOp op, Offset offset, ExprPtr left, ExprPtr right);
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_comparison();
  ExprPtr parse_additive();
  ExprPtr parse_multiplicative();
  ExprPtr parse_power();
  ExprPtr parse_test();
  ExprPtr parse_filter();
  ExprPtr parse_sign();
  ExprPtr parse_postfix(ExprPtr e);
  ExprPtr parse_subscript(ExprPtr object);
  static Value parse_int(const std::string& digits, Offset at);

  int expr_depth_ = 0;
};

}  // namespace nextn::chat

// The parsed form of a chat template: statements and expressions, built once by parse() and
// walked read-only by every render.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "chat/template_error.h"
#include "chat/value.h"

namespace nextn::chat {

struct Expr;
struct Stmt;
using ExprPtr = std::unique_ptr<Expr>;
using StmtPtr = std::unique_ptr<Stmt>;
using Block = std::vector<StmtPtr>;

enum class BinaryOp {
  kAnd, kOr, kEq, kNe, kLt, kGt, kLe, kGe, kIn, kNotIn,
  kAdd, kSub, kConcat, kMul, kDiv, kFloorDiv, kMod, kPow,
};

// A call argument or macro parameter: `value` or `name=value`.
struct Arg {
  std::string name;  // empty for positional
  ExprPtr value;     // a parameter without a default has none
};

struct Expr {
  enum class Kind {
    kLiteral,     // literal
    kVariable,    // name
    kList,        // items
    kTuple,       // items
    kDict,        // items: key, value, key, value, ...
    kAttribute,   // object.name (also `.0`: name is the digits, index_literal set)
    kSubscript,   // object[index]
    kSlice,       // object[items[0]:items[1]:items[2]] (any may be null)
    kCall,        // callee(args)
    kFilter,      // object | name(args)
    kTest,        // object is [not] name
    kNot,         // not object
    kNegate,      // -object
    kPlus,        // +object
    kBinary,      // object op index
    kConditional, // index if object else items[0]; without else, items is empty
  };
  Kind kind;
  Offset offset;
  uint32_t height = 1;  // of the tree below, bounded by the parser (kMaxExprHeight)
  Value literal;
  std::string name;
  BinaryOp op = BinaryOp::kAnd;
  bool negate = false;
  bool index_literal = false;
  ExprPtr object;
  ExprPtr index;
  std::vector<ExprPtr> items;
  std::vector<Arg> args;
};

struct Stmt {
  enum class Kind {
    kText,         // text
    kOutput,       // {{ expr }}
    kIf,           // if expr: body else orelse (an elif is an If alone in orelse)
    kFor,          // for target in expr [if condition]: body else orelse
    kSet,          // set target = expr
    kSetBlock,     // set target: body
    kMacro,        // macro name(params): body
    kBreak,
    kContinue,
    kFilterBlock,  // filter name(args): body
  };
  Kind kind;
  Offset offset;
  std::string text;
  ExprPtr expr;
  ExprPtr target;
  ExprPtr condition;
  std::string name;
  std::vector<Arg> args;  // macro parameters, filter-block arguments
  Block body;
  Block orelse;
};

}  // namespace nextn::chat

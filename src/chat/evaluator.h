// Renders a parsed chat template (ast.h) against a context of variables.
//
// Scoping is the reference renderer's (@huggingface/jinja, src/runtime.ts), which agrees with
// Jinja where the models' templates rely on it: a `for` loop gets its own scope, so a `set`
// inside it does not leak out (the DeepSeek templates carry state out of loops through a
// namespace instead); `if` bodies share the enclosing scope; a macro call gets a scope on top
// of the caller's. Scopes form a stack, looked up from the top; the context is the bottom one.
//
// Every render is bounded: a step budget (so no template loops forever), a size bound on every
// string and list it builds, and a depth bound on nested evaluation (so a recursive macro fails
// cleanly instead of overflowing the stack). All three fail with TemplateError.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "chat/ast.h"
#include "chat/value.h"

namespace nextn::chat {

struct EvalLimits {
  uint64_t max_steps;
  size_t max_bytes;
  int max_depth;
};

class Evaluator {
 public:
  explicit Evaluator(const EvalLimits& limits) : limits_(limits) {}

  // `context` must be a dict; its entries become the template's variables.
  std::string render(const Block& program, const Value& context);

  // For builtins: call a callable value, and account for work and sizes.
  Value call(const Value& callee, CallArgs& args);
  void charge(uint64_t steps, Offset offset);
  void check_size(size_t size, Offset offset) const;

 private:
  enum class Flow { kNormal, kBreak, kContinue };
  using Frame = std::vector<std::pair<std::string, Value>>;

  struct DepthGuard {
    DepthGuard(Evaluator& e, Offset offset);
    ~DepthGuard() { --e_.depth_; }
    Evaluator& e_;
  };
  struct ScopeGuard {
    explicit ScopeGuard(Evaluator& e) : e_(e) { e_.frames_.emplace_back(); }
    ~ScopeGuard() { e_.frames_.pop_back(); }
    Evaluator& e_;
  };

  Flow exec_block(const Block& block, std::string& out);
  Flow exec(const Stmt& s, std::string& out);
  Flow exec_for(const Stmt& s, std::string& out);
  void assign(const Expr& target, const Value& value);
  void set_local(const std::string& name, Value value);
  Value lookup(const std::string& name) const;
  Value call_macro(const Stmt& macro, CallArgs& args);

  Value eval(const Expr& e);
  Value eval_member(const Value& object, const Value& key, const Expr& e);
  Value eval_slice(const Expr& e);
  Value eval_call(const Expr& e);
  CallArgs eval_args(const std::vector<Arg>& args, Offset offset);

  EvalLimits limits_;
  std::vector<Frame> frames_;
  uint64_t steps_ = 0;
  int depth_ = 0;
};

// Every binary operator but and / or (operators.cpp).
Value binary_op(Evaluator& ev, BinaryOp op, const Value& a, const Value& b, Offset offset);
std::string_view op_name(BinaryOp op);

}  // namespace nextn::chat

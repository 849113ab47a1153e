#include "chat/evaluator.h"

#include "chat/builtins.h"
#include "chat/json.h"
#include "chat/utf8.h"

namespace nextn::chat {

Evaluator::DepthGuard::DepthGuard(Evaluator& e, Offset offset) : e_(e) {
  if (++e_.depth_ > e_.limits_.max_depth) {
    --e_.depth_;
    fail_at(offset, "evaluation nested more than {} deep (a macro calling itself without end?)",
            e_.limits_.max_depth);
  }
}

void Evaluator::charge(uint64_t steps, Offset offset) {
  steps_ = steps > UINT64_MAX - steps_ ? UINT64_MAX : steps_ + steps;
  if (steps_ > limits_.max_steps) {
    fail_at(offset, "rendering took more than {} steps (a loop that does not end?)",
            limits_.max_steps);
  }
}

void Evaluator::check_size(size_t size, Offset offset) const {
  if (size > limits_.max_bytes) {
    fail_at(offset, "value or output larger than the limit of {} bytes", limits_.max_bytes);
  }
}

std::string Evaluator::render(const Block& program, const Value& context) {
  frames_.clear();
  frames_.emplace_back();
  for (const auto& [key, value] : context.as_object().entries()) frames_.back().emplace_back(key, value);
  std::string out;
  exec_block(program, out);  // the parser rejects break / continue outside a loop
  return out;
}

Evaluator::Flow Evaluator::exec_block(const Block& block, std::string& out) {
  for (const StmtPtr& s : block) {
    if (const Flow flow = exec(*s, out); flow != Flow::kNormal) return flow;
  }
  return Flow::kNormal;
}

Evaluator::Flow Evaluator::exec(const Stmt& s, std::string& out) {
  DepthGuard depth(*this, s.offset);
  charge(1, s.offset);
  switch (s.kind) {
    case Stmt::Kind::kText:
      out += s.text;
      check_size(out.size(), s.offset);
      return Flow::kNormal;
    case Stmt::Kind::kOutput:
      append_output(out, eval(*s.expr), s.expr->offset);
      check_size(out.size(), s.offset);
      return Flow::kNormal;
    case Stmt::Kind::kIf:
      return exec_block(eval(*s.expr).truthy() ? s.body : s.orelse, out);
    case Stmt::Kind::kFor:
      return exec_for(s, out);
    case Stmt::Kind::kSet:
      assign(*s.target, eval(*s.expr));
      return Flow::kNormal;
    case Stmt::Kind::kSetBlock: {
      std::string captured;
      exec_block(s.body, captured);
      assign(*s.target, Value(std::move(captured)));
      return Flow::kNormal;
    }
    case Stmt::Kind::kMacro: {
      const Stmt* macro = &s;
      set_local(s.name, Value::callable("macro '" + s.name + "'", [macro](Evaluator& ev, CallArgs& a) {
                  return ev.call_macro(*macro, a);
                }));
      return Flow::kNormal;
    }
    case Stmt::Kind::kBreak: return Flow::kBreak;
    case Stmt::Kind::kContinue: return Flow::kContinue;
    case Stmt::Kind::kFilterBlock: {
      std::string captured;
      exec_block(s.body, captured);
      CallArgs args = eval_args(s.args, s.offset);
      append_output(out, apply_filter(*this, s.name, Value(std::move(captured)), args), s.offset);
      check_size(out.size(), s.offset);
      return Flow::kNormal;
    }
  }
  return Flow::kNormal;
}

Evaluator::Flow Evaluator::exec_for(const Stmt& s, std::string& out) {
  const Value iterable = eval(*s.expr);
  std::vector<Value> items;
  switch (iterable.kind()) {
    case Value::Kind::kArray: items = iterable.as_array(); break;
    case Value::Kind::kObject:  // a dict iterates over its keys, as in Python
      for (const auto& entry : iterable.as_object().entries()) items.emplace_back(entry.first);
      break;
    case Value::Kind::kString: {
      const std::string& str = iterable.as_string();
      for (size_t i = 0; i < str.size();) {
        const size_t start = i;
        decode_utf8(str, i);
        items.emplace_back(str.substr(start, i - start));
      }
      break;
    }
    default:
      fail_at(s.expr->offset, "cannot iterate over {}", iterable.type_name());
  }
  charge(items.size(), s.offset);
  ScopeGuard scope(*this);
  if (s.condition) {  // `for x in xs if cond`: filter first, so loop.* counts what remains
    std::vector<Value> kept;
    for (Value& item : items) {
      ScopeGuard item_scope(*this);
      assign(*s.target, item);
      if (eval(*s.condition).truthy()) kept.push_back(std::move(item));
    }
    items = std::move(kept);
  }
  const int64_t n = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < n; ++i) {
    Object loop;
    loop.set("index", Value(i + 1));
    loop.set("index0", Value(i));
    loop.set("revindex", Value(n - i));
    loop.set("revindex0", Value(n - i - 1));
    loop.set("first", Value(i == 0));
    loop.set("last", Value(i == n - 1));
    loop.set("length", Value(n));
    loop.set("previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value());
    loop.set("nextitem", i < n - 1 ? items[static_cast<size_t>(i + 1)] : Value());
    set_local("loop", Value::object(std::move(loop), s.offset));
    assign(*s.target, items[static_cast<size_t>(i)]);
    if (exec_block(s.body, out) == Flow::kBreak) break;
  }
  if (n == 0) exec_block(s.orelse, out);
  return Flow::kNormal;
}

void Evaluator::set_local(const std::string& name, Value value) {
  Frame& frame = frames_.back();
  for (auto& [key, v] : frame) {
    if (key == name) {
      v = std::move(value);
      return;
    }
  }
  frame.emplace_back(name, std::move(value));
}

void Evaluator::assign(const Expr& target, const Value& value) {
  switch (target.kind) {
    case Expr::Kind::kVariable:
      set_local(target.name, value);
      return;
    case Expr::Kind::kTuple: {
      if (!value.is_array()) {
        fail_at(target.offset, "cannot unpack {} into {} names", value.type_name(),
                target.items.size());
      }
      const auto& items = value.as_array();
      if (items.size() != target.items.size()) {
        fail_at(target.offset, "cannot unpack {} values into {} names", items.size(),
                target.items.size());
      }
      for (size_t i = 0; i < items.size(); ++i) set_local(target.items[i]->name, items[i]);
      return;
    }
    case Expr::Kind::kAttribute: {
      const Value object = eval(*target.object);
      if (!object.is_namespace()) {
        fail_at(target.offset, "cannot set attribute '{}' on {}: only a namespace() can be assigned to",
                target.name, object.type_name());
      }
      if (value.holds_reference()) {
        fail_at(target.offset, "a namespace attribute cannot hold a namespace or a function");
      }
      object.as_namespace().attributes.set(target.name, value);
      return;
    }
    default:
      fail_at(target.offset, "cannot assign to this expression");
  }
}

Value Evaluator::lookup(const std::string& name) const {
  for (auto frame = frames_.rbegin(); frame != frames_.rend(); ++frame) {
    for (const auto& [key, v] : *frame) {
      if (key == name) return v;
    }
  }
  // Constants and functions the reference defines globally; a variable may shadow them.
  if (name == "true" || name == "True") return Value(true);
  if (name == "false" || name == "False") return Value(false);
  if (name == "none" || name == "None") return Value::none();
  return global_function(name);
}

Value Evaluator::call(const Value& callee, CallArgs& args) {
  DepthGuard depth(*this, args.offset);
  return callee.as_callable().fn(*this, args);
}

Value Evaluator::call_macro(const Stmt& macro, CallArgs& args) {
  const std::vector<Arg>& params = macro.args;
  if (args.positional.size() > params.size()) {
    fail_at(args.offset, "macro '{}' takes at most {} argument(s), got {}", macro.name,
            params.size(), args.positional.size());
  }
  for (const auto& [key, v] : args.keyword) {
    bool found = false;
    for (size_t i = 0; i < params.size(); ++i) {
      if (params[i].name != key) continue;
      if (i < args.positional.size()) {
        fail_at(args.offset, "macro '{}' got parameter '{}' twice", macro.name, key);
      }
      found = true;
    }
    if (!found) fail_at(args.offset, "macro '{}' has no parameter '{}'", macro.name, key);
  }
  ScopeGuard scope(*this);
  std::vector<const Arg*> pending_defaults;
  for (size_t i = 0; i < params.size(); ++i) {
    Value value;
    bool given = i < args.positional.size();
    if (given) {
      value = args.positional[i];
    } else if (const Value* kw = args.keyword_arg(params[i].name)) {
      value = *kw;
      given = true;
    }
    if (!given && params[i].value) pending_defaults.push_back(&params[i]);
    set_local(params[i].name, std::move(value));
  }
  // Defaults are evaluated once every parameter is bound, inside the macro's scope.
  for (const Arg* param : pending_defaults) set_local(param->name, eval(*param->value));
  std::string out;
  exec_block(macro.body, out);
  return Value(std::move(out));
}

CallArgs Evaluator::eval_args(const std::vector<Arg>& args, Offset offset) {
  CallArgs result;
  result.offset = offset;
  for (const Arg& arg : args) {
    if (arg.name.empty()) {
      result.positional.push_back(eval(*arg.value));
    } else {
      result.keyword.emplace_back(arg.name, eval(*arg.value));
    }
  }
  return result;
}

Value Evaluator::eval(const Expr& e) {
  DepthGuard depth(*this, e.offset);
  charge(1, e.offset);
  using K = Expr::Kind;
  switch (e.kind) {
    case K::kLiteral: return e.literal;
    case K::kVariable: return lookup(e.name);
    case K::kList:
    case K::kTuple: {
      std::vector<Value> items;
      items.reserve(e.items.size());
      for (const auto& item : e.items) items.push_back(eval(*item));
      return Value::array(std::move(items), e.offset);
    }
    case K::kDict: {
      Object entries;
      for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
        const Value key = eval(*e.items[i]);
        if (!key.is_string()) {
          fail_at(e.items[i]->offset, "dict keys must be strings, got {}", key.type_name());
        }
        entries.set(key.as_string(), eval(*e.items[i + 1]));
      }
      return Value::object(std::move(entries), e.offset);
    }
    case K::kAttribute: {
      const Value object = eval(*e.object);
      return eval_member(object, e.index_literal ? e.literal : Value(e.name), e);
    }
    case K::kSubscript: {
      const Value object = eval(*e.object);
      return eval_member(object, eval(*e.index), e);
    }
    case K::kSlice: return eval_slice(e);
    case K::kCall: return eval_call(e);
    case K::kFilter: {
      const Value operand = eval(*e.object);
      CallArgs args = eval_args(e.args, e.offset);
      return apply_filter(*this, e.name, operand, args);
    }
    case K::kTest: {
      const bool result = apply_test(e.name, eval(*e.object), e.offset);
      return Value(e.negate ? !result : result);
    }
    case K::kNot: return Value(!eval(*e.object).truthy());
    case K::kNegate:
    case K::kPlus: {
      const Value v = eval(*e.object);
      const bool minus = e.kind == K::kNegate;
      if (v.is_float()) return Value(minus ? -v.as_float() : v.as_float());
      if (v.is_int() || v.is_bool()) {
        const int64_t i = v.is_bool() ? static_cast<int64_t>(v.as_bool()) : v.as_int();
        if (minus && i == INT64_MIN) fail_at(e.offset, "integer overflow");
        return Value(minus ? -i : i);
      }
      fail_at(e.offset, "unary '{}' needs a number, got {}", minus ? '-' : '+', v.type_name());
    }
    case K::kBinary: {
      Value left = eval(*e.object);
      if (e.op == BinaryOp::kAnd) return left.truthy() ? eval(*e.index) : left;
      if (e.op == BinaryOp::kOr) return left.truthy() ? left : eval(*e.index);
      const Value right = eval(*e.index);
      charge(work_of(left) + work_of(right), e.offset);
      return binary_op(*this, e.op, left, right, e.offset);
    }
    case K::kConditional:
      if (eval(*e.index).truthy()) return eval(*e.object);
      return e.items.empty() ? Value() : eval(*e.items[0]);
  }
  return Value();
}

Value Evaluator::eval_member(const Value& object, const Value& key, const Expr& e) {
  if (object.is_object() || object.is_namespace()) {
    if (!key.is_string()) {
      fail_at(e.offset, "a {} key must be a string, got {}", object.type_name(), key.type_name());
    }
    const Object& entries = object.is_object() ? object.as_object() : object.as_namespace().attributes;
    if (const Value* v = entries.find(key.as_string())) return *v;
    return object.is_object() ? builtin_member(object, key.as_string()) : Value();
  }
  if (object.is_array() || object.is_string()) {
    if (object.is_string()) charge(work_of(object), e.offset);  // indexing walks the UTF-8
    if (key.is_int()) {
      // Negative indexes count from the end, as in Python; out of range is undefined.
      if (object.is_array()) {
        const auto& items = object.as_array();
        const int64_t n = static_cast<int64_t>(items.size());
        const int64_t i = key.as_int() < 0 ? key.as_int() + n : key.as_int();
        return i >= 0 && i < n ? items[static_cast<size_t>(i)] : Value();
      }
      const std::string& s = object.as_string();
      const std::vector<size_t> starts = code_point_starts(s);
      const int64_t n = static_cast<int64_t>(starts.size()) - 1;
      const int64_t i = key.as_int() < 0 ? key.as_int() + n : key.as_int();
      if (i < 0 || i >= n) return Value();
      const size_t at = starts[static_cast<size_t>(i)];
      return Value(s.substr(at, starts[static_cast<size_t>(i) + 1] - at));
    }
    if (key.is_string()) return builtin_member(object, key.as_string());
    fail_at(e.offset, "a {} index must be an integer, got {}", object.type_name(), key.type_name());
  }
  // Other values (undefined included, as in the reference) have no attributes.
  if (!key.is_string()) {
    fail_at(e.offset, "cannot index {} with {}", object.type_name(), key.type_name());
  }
  return Value();
}

Value Evaluator::eval_slice(const Expr& e) {
  const Value object = eval(*e.object);
  if (!object.is_array() && !object.is_string()) {
    fail_at(e.offset, "cannot slice {}", object.type_name());
  }
  int64_t bounds[3] = {0, 0, 1};
  bool given[3] = {false, false, false};
  for (size_t k = 0; k < 3; ++k) {
    if (!e.items[k]) continue;
    const Value v = eval(*e.items[k]);
    if (v.is_none() || v.is_undefined()) continue;
    if (!v.is_int()) fail_at(e.items[k]->offset, "slice bounds must be integers, got {}", v.type_name());
    bounds[k] = v.as_int();
    given[k] = true;
  }
  charge(work_of(object), e.offset);
  const int64_t step = bounds[2];
  if (step == 0) fail_at(e.offset, "slice step cannot be zero");
  std::vector<size_t> starts;
  if (object.is_string()) starts = code_point_starts(object.as_string());
  const int64_t n = object.is_array() ? static_cast<int64_t>(object.as_array().size())
                                      : static_cast<int64_t>(starts.size()) - 1;
  // Python's slice.indices().
  const auto clamp = [&](int64_t v, bool has, int64_t fallback, int64_t lo, int64_t hi) {
    if (!has) return fallback;
    if (v < 0) v += n;
    return std::min(std::max(v, lo), hi);
  };
  int64_t start = 0;
  int64_t stop = 0;
  if (step > 0) {
    start = clamp(bounds[0], given[0], 0, 0, n);
    stop = clamp(bounds[1], given[1], n, 0, n);
  } else {
    start = clamp(bounds[0], given[0], n - 1, -1, n - 1);
    stop = clamp(bounds[1], given[1], -1, -1, n - 1);
  }
  std::vector<size_t> picked;
  for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) picked.push_back(static_cast<size_t>(i));
  charge(picked.size(), e.offset);
  if (object.is_array()) {
    std::vector<Value> items;
    items.reserve(picked.size());
    for (const size_t i : picked) items.push_back(object.as_array()[i]);
    return Value::array(std::move(items), e.offset);
  }
  std::string out;
  for (const size_t i : picked) out.append(object.as_string(), starts[i], starts[i + 1] - starts[i]);
  return Value(std::move(out));
}

Value Evaluator::eval_call(const Expr& e) {
  CallArgs args = eval_args(e.args, e.offset);
  const Expr& target = *e.object;
  if (target.kind == Expr::Kind::kAttribute && !target.index_literal) {
    // A method call: evaluate the receiver here so an unknown method can be named with it.
    const Value receiver = eval(*target.object);
    charge(work_of(receiver), target.offset);
    const Value method = eval_member(receiver, Value(target.name), target);
    if (!method.is_callable()) {
      if (method.is_undefined()) {
        fail_at(target.offset, "unknown method '{}' of {}", target.name, receiver.type_name());
      }
      fail_at(target.offset, "'{}' of {} is {}, not a function", target.name,
              receiver.type_name(), method.type_name());
    }
    return call(method, args);
  }
  const Value callee = eval(target);
  if (!callee.is_callable()) {
    if (target.kind == Expr::Kind::kVariable) {
      if (callee.is_undefined()) fail_at(e.offset, "unknown function '{}'", target.name);
      fail_at(e.offset, "'{}' is {}, not a function", target.name, callee.type_name());
    }
    fail_at(e.offset, "cannot call {}", callee.type_name());
  }
  return call(callee, args);
}

}  // namespace nextn::chat

#include "compiler.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <map>
#include <random>
#include <stdexcept>
#include <system_error>
#include <unordered_map>

namespace ccsim {
namespace {

// ---- Source generation -------------------------------------------------------

const char* const kWords[] = {"buffer", "count", "index", "offset", "length", "value", "result", "state",
                              "cursor", "limit", "total", "scratch", "window", "weight", "carry", "delta"};

class SourceGenerator {
 public:
  SourceGenerator(std::uint64_t seed, std::uint64_t unit) : unit_(unit) {
    std::seed_seq sequence{static_cast<std::uint32_t>(seed), static_cast<std::uint32_t>(seed >> 32),
                           static_cast<std::uint32_t>(unit), static_cast<std::uint32_t>(unit >> 32)};
    random_.seed(sequence);
  }

  std::string generate(std::uint64_t functions) {
    for (std::uint64_t i = 0; i < functions; ++i) generate_function(i);
    return std::move(source_);
  }

 private:
  std::uint64_t pick(std::uint64_t low, std::uint64_t high) {
    return std::uniform_int_distribution<std::uint64_t>(low, high)(random_);
  }
  const char* word() { return kWords[pick(0, std::size(kWords) - 1)]; }

  void generate_function(std::uint64_t index) {
    std::string name = "function_" + std::to_string(unit_) + "_" + std::to_string(index) + "_" + word();
    std::uint64_t params = pick(1, 4);
    arities_.push_back(params);
    names_.push_back(name);

    scopes_.assign(1, {});
    source_ += "fn " + name + "(";
    for (std::uint64_t p = 0; p < params; ++p) {
      std::string param = "param_" + std::to_string(p) + "_" + word();
      scopes_.back().push_back(param);
      source_ += (p == 0 ? "" : ", ") + param;
    }
    source_ += ") {\n";
    generate_statements(pick(6, 30), 1);
    source_ += "  return " + expression(2) + ";\n}\n";
  }

  void generate_statements(std::uint64_t count, int depth) {
    for (std::uint64_t i = 0; i < count; ++i) generate_statement(depth);
  }

  void generate_statement(int depth) {
    std::string indent(static_cast<std::size_t>(depth) * 2, ' ');
    std::uint64_t choice = depth >= 3 ? pick(0, 1) : pick(0, 4);
    if (choice == 0 || visible_count() == 0) {
      std::string name = "local_" + std::to_string(next_local_++) + "_" + word();
      source_ += indent + "let " + name + " = " + expression(3) + ";\n";
      scopes_.back().push_back(name);
    } else if (choice == 1 || choice == 4) {
      source_ += indent + visible_name() + " = " + expression(3) + ";\n";
    } else if (choice == 2) {
      source_ += indent + "if (" + expression(2) + ") {\n";
      nested_block(depth);
      if (pick(0, 1) == 1) {
        source_ += indent + "} else {\n";
        nested_block(depth);
      }
      source_ += indent + "}\n";
    } else {
      source_ += indent + "while (" + visible_name() + " < " + std::to_string(pick(1, 1000)) + ") {\n";
      nested_block(depth);
      source_ += indent + "}\n";
    }
  }

  void nested_block(int depth) {
    scopes_.emplace_back();
    generate_statements(pick(1, 5), depth + 1);
    scopes_.pop_back();
  }

  std::size_t visible_count() const {
    std::size_t count = 0;
    for (const auto& scope : scopes_) count += scope.size();
    return count;
  }

  std::string visible_name() {
    std::uint64_t index = pick(0, visible_count() - 1);
    for (const auto& scope : scopes_) {
      if (index < scope.size()) return scope[index];
      index -= scope.size();
    }
    return scopes_.front().front();
  }

  std::string expression(int depth) {
    std::uint64_t choice = depth == 0 ? pick(0, 1) : pick(0, 5);
    if (choice == 0) return std::to_string(pick(0, 100000));
    if (choice == 1) return visible_name();
    if (choice == 2 && names_.size() > 1) {
      // Only earlier functions, so every call resolves.
      std::uint64_t callee = pick(0, names_.size() - 2);
      std::string call = names_[callee] + "(";
      for (std::uint64_t a = 0; a < arities_[callee]; ++a) call += (a == 0 ? "" : ", ") + expression(depth - 1);
      return call + ")";
    }
    static const char* const operators[] = {"+", "-", "*", "<", "=="};
    std::string op = operators[pick(0, std::size(operators) - 1)];
    std::string text = expression(depth - 1) + " " + op + " " + expression(depth - 1);
    return pick(0, 2) == 0 ? "(" + text + ")" : text;
  }

  std::mt19937_64 random_;
  std::uint64_t unit_;
  std::string source_;
  std::vector<std::string> names_;
  std::vector<std::uint64_t> arities_;
  std::vector<std::vector<std::string>> scopes_;
  std::uint64_t next_local_ = 0;
};

// ---- Parsing -----------------------------------------------------------------

bool is_keyword(std::string_view word) {
  return word == "fn" || word == "let" || word == "if" || word == "else" || word == "while" || word == "return";
}

class Parser {
 public:
  explicit Parser(const std::vector<Token>& tokens) : tokens_(tokens) {}

  Program parse_program() {
    Program program;
    while (peek().kind != TokenKind::end) program.functions.push_back(parse_function());
    return program;
  }

 private:
  const Token& peek() const { return tokens_[position_]; }
  bool at(std::string_view text) const { return peek().kind != TokenKind::end && peek().text == text; }

  [[noreturn]] void fail(const std::string& expected) const {
    throw std::runtime_error("line " + std::to_string(peek().line) + ": expected " + expected + ", found \"" +
                             peek().text + "\"");
  }

  const Token& advance() { return tokens_[position_++]; }

  void expect(std::string_view text) {
    if (!at(text)) fail("\"" + std::string(text) + "\"");
    ++position_;
  }

  std::string expect_identifier() {
    if (peek().kind != TokenKind::identifier) fail("an identifier");
    return advance().text;
  }

  std::unique_ptr<Function> parse_function() {
    auto function = std::make_unique<Function>();
    expect("fn");
    function->name = expect_identifier();
    expect("(");
    while (!at(")")) {
      if (!function->params.empty()) expect(",");
      function->params.push_back(expect_identifier());
    }
    expect(")");
    function->body = parse_block();
    return function;
  }

  Block parse_block() {
    Block block;
    expect("{");
    while (!at("}")) block.statements.push_back(parse_statement());
    expect("}");
    return block;
  }

  std::unique_ptr<Stmt> parse_statement() {
    if (at("let") || peek().kind == TokenKind::identifier) {
      auto kind = at("let") ? Stmt::Kind::let : Stmt::Kind::assign;
      if (kind == Stmt::Kind::let) ++position_;
      auto statement = std::make_unique<AssignStmt>(kind);
      statement->name = expect_identifier();
      expect("=");
      statement->value = parse_expression();
      expect(";");
      return statement;
    }
    if (at("if")) {
      ++position_;
      auto statement = std::make_unique<IfStmt>();
      expect("(");
      statement->condition = parse_expression();
      expect(")");
      statement->then_block = parse_block();
      if (at("else")) {
        ++position_;
        statement->else_block = parse_block();
      }
      return statement;
    }
    if (at("while")) {
      ++position_;
      auto statement = std::make_unique<WhileStmt>();
      expect("(");
      statement->condition = parse_expression();
      expect(")");
      statement->body = parse_block();
      return statement;
    }
    if (at("return")) {
      ++position_;
      auto statement = std::make_unique<ReturnStmt>();
      statement->value = parse_expression();
      expect(";");
      return statement;
    }
    fail("a statement");
  }

  // Precedence, lowest first: comparison, additive, multiplicative.
  std::unique_ptr<Expr> parse_expression() { return parse_binary(0); }

  static int precedence(std::string_view op) {
    if (op == "<" || op == "==") return 1;
    if (op == "+" || op == "-") return 2;
    if (op == "*") return 3;
    return 0;
  }

  std::unique_ptr<Expr> parse_binary(int min_precedence) {
    std::unique_ptr<Expr> left = parse_term();
    for (;;) {
      int level = peek().kind == TokenKind::punctuation ? precedence(peek().text) : 0;
      if (level == 0 || level <= min_precedence) return left;
      auto binary = std::make_unique<BinaryExpr>();
      binary->op = advance().text;
      binary->left = std::move(left);
      binary->right = parse_binary(level);
      left = std::move(binary);
    }
  }

  std::unique_ptr<Expr> parse_term() {
    if (peek().kind == TokenKind::number) {
      auto number = std::make_unique<NumberExpr>();
      number->value = std::stoll(advance().text);
      return number;
    }
    if (at("(")) {
      ++position_;
      std::unique_ptr<Expr> inner = parse_expression();
      expect(")");
      return inner;
    }
    std::string name = expect_identifier();
    if (!at("(")) {
      auto reference = std::make_unique<NameExpr>();
      reference->name = std::move(name);
      return reference;
    }
    ++position_;
    auto call = std::make_unique<CallExpr>();
    call->callee = std::move(name);
    while (!at(")")) {
      if (!call->args.empty()) expect(",");
      call->args.push_back(parse_expression());
    }
    expect(")");
    return call;
  }

  const std::vector<Token>& tokens_;
  std::size_t position_ = 0;
};

// ---- Name resolution -----------------------------------------------------------

struct Symbol {
  std::string name;
  int slot = 0;
  std::uint32_t uses = 0;
};

class Resolver {
 public:
  explicit Resolver(Program& program) {
    for (std::size_t i = 0; i < program.functions.size(); ++i) {
      const Function& function = *program.functions[i];
      functions_.emplace(function.name, std::make_pair(static_cast<int>(i), function.params.size()));
    }
  }

  void resolve_function(Function& function) {
    symbols_.clear();
    scopes_.assign(1, {});
    for (const std::string& param : function.params) declare(param);
    resolve_block(function.body);
    function.slots = static_cast<int>(symbols_.size());
  }

 private:
  // Each scope maps names to symbols owned by symbols_; inner scopes are
  // short-lived tables, as in a compiler's block scopes.
  int declare(const std::string& name) {
    symbols_.push_back(std::make_unique<Symbol>(Symbol{name, static_cast<int>(symbols_.size()), 0}));
    scopes_.back()[name] = symbols_.back().get();
    return symbols_.back()->slot;
  }

  int lookup(const std::string& name) {
    for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
      auto found = scope->find(name);
      if (found != scope->end()) {
        ++found->second->uses;
        return found->second->slot;
      }
    }
    throw std::runtime_error("undeclared name \"" + name + "\"");
  }

  void resolve_block(Block& block) {
    scopes_.emplace_back();
    for (auto& statement : block.statements) resolve_statement(*statement);
    scopes_.pop_back();
  }

  void resolve_statement(Stmt& statement) {
    switch (statement.kind) {
      case Stmt::Kind::let: {
        auto& let = static_cast<AssignStmt&>(statement);
        resolve_expression(*let.value);  // the initialiser cannot see the new name
        let.slot = declare(let.name);
        break;
      }
      case Stmt::Kind::assign: {
        auto& assign = static_cast<AssignStmt&>(statement);
        resolve_expression(*assign.value);
        assign.slot = lookup(assign.name);
        break;
      }
      case Stmt::Kind::if_else: {
        auto& branch = static_cast<IfStmt&>(statement);
        resolve_expression(*branch.condition);
        resolve_block(branch.then_block);
        resolve_block(branch.else_block);
        break;
      }
      case Stmt::Kind::loop: {
        auto& loop = static_cast<WhileStmt&>(statement);
        resolve_expression(*loop.condition);
        resolve_block(loop.body);
        break;
      }
      case Stmt::Kind::return_value:
        resolve_expression(*static_cast<ReturnStmt&>(statement).value);
        break;
    }
  }

  void resolve_expression(Expr& expression) {
    switch (expression.kind) {
      case Expr::Kind::number:
        break;
      case Expr::Kind::name: {
        auto& name = static_cast<NameExpr&>(expression);
        name.slot = lookup(name.name);
        break;
      }
      case Expr::Kind::binary: {
        auto& binary = static_cast<BinaryExpr&>(expression);
        resolve_expression(*binary.left);
        resolve_expression(*binary.right);
        break;
      }
      case Expr::Kind::call: {
        auto& call = static_cast<CallExpr&>(expression);
        auto found = functions_.find(call.callee);
        if (found == functions_.end()) throw std::runtime_error("call of undeclared function \"" + call.callee + "\"");
        if (found->second.second != call.args.size()) {
          throw std::runtime_error("call of \"" + call.callee + "\" with " + std::to_string(call.args.size()) +
                                   " arguments, expected " + std::to_string(found->second.second));
        }
        call.function = found->second.first;
        for (auto& arg : call.args) resolve_expression(*arg);
        break;
      }
    }
  }

  std::unordered_map<std::string, std::pair<int, std::size_t>> functions_;
  std::vector<std::unique_ptr<Symbol>> symbols_;
  std::vector<std::unordered_map<std::string, Symbol*>> scopes_;
};

// ---- Lowering ------------------------------------------------------------------

class Lowerer {
 public:
  IrFunction lower_function(const Function& function) {
    ir_ = IrFunction{function.name, static_cast<int>(function.params.size()), function.slots, function.slots, {}};
    lower_block(function.body);
    return std::move(ir_);
  }

 private:
  std::int32_t temporary() { return ir_.registers++; }

  void add(Op op, std::int32_t dst, std::int32_t a = -1, std::int32_t b = -1, std::int64_t imm = 0) {
    ir_.code.push_back(Instr{op, dst, a, b, imm});
  }

  void lower_block(const Block& block) {
    for (const auto& statement : block.statements) lower_statement(*statement);
  }

  void lower_statement(const Stmt& statement) {
    switch (statement.kind) {
      case Stmt::Kind::let:
      case Stmt::Kind::assign: {
        const auto& assign = static_cast<const AssignStmt&>(statement);
        add(Op::copy, assign.slot, lower_expression(*assign.value));
        break;
      }
      case Stmt::Kind::if_else: {
        const auto& branch = static_cast<const IfStmt&>(statement);
        std::int64_t else_label = labels_++;
        std::int64_t end_label = labels_++;
        add(Op::branch_false, -1, lower_expression(*branch.condition), -1, else_label);
        lower_block(branch.then_block);
        add(Op::jump, -1, -1, -1, end_label);
        add(Op::label, -1, -1, -1, else_label);
        lower_block(branch.else_block);
        add(Op::label, -1, -1, -1, end_label);
        break;
      }
      case Stmt::Kind::loop: {
        const auto& loop = static_cast<const WhileStmt&>(statement);
        std::int64_t head = labels_++;
        std::int64_t exit = labels_++;
        add(Op::label, -1, -1, -1, head);
        add(Op::branch_false, -1, lower_expression(*loop.condition), -1, exit);
        lower_block(loop.body);
        add(Op::jump, -1, -1, -1, head);
        add(Op::label, -1, -1, -1, exit);
        break;
      }
      case Stmt::Kind::return_value:
        add(Op::ret, -1, lower_expression(*static_cast<const ReturnStmt&>(statement).value));
        break;
    }
  }

  std::int32_t lower_expression(const Expr& expression) {
    switch (expression.kind) {
      case Expr::Kind::number: {
        std::int32_t dst = temporary();
        add(Op::constant, dst, -1, -1, static_cast<const NumberExpr&>(expression).value);
        return dst;
      }
      case Expr::Kind::name:
        return static_cast<const NameExpr&>(expression).slot;
      case Expr::Kind::binary: {
        const auto& binary = static_cast<const BinaryExpr&>(expression);
        std::int32_t left = lower_expression(*binary.left);
        std::int32_t right = lower_expression(*binary.right);
        std::int32_t dst = temporary();
        add(binary_op(binary.op), dst, left, right);
        return dst;
      }
      case Expr::Kind::call: {
        const auto& call = static_cast<const CallExpr&>(expression);
        std::vector<std::int32_t> args;
        for (const auto& arg : call.args) args.push_back(lower_expression(*arg));
        for (std::size_t i = 0; i < args.size(); ++i) add(Op::arg, -1, args[i], -1, static_cast<std::int64_t>(i));
        std::int32_t dst = temporary();
        add(Op::call, dst, -1, -1, call.function);
        return dst;
      }
    }
    return -1;
  }

  static Op binary_op(const std::string& op) {
    if (op == "+") return Op::add;
    if (op == "-") return Op::sub;
    if (op == "*") return Op::mul;
    if (op == "<") return Op::less;
    return Op::equal;
  }

  IrFunction ir_;
  std::int64_t labels_ = 0;
};

bool is_arithmetic(Op op) {
  return op == Op::add || op == Op::sub || op == Op::mul || op == Op::less || op == Op::equal;
}

std::int64_t fold(Op op, std::int64_t a, std::int64_t b) {
  // Unsigned arithmetic wraps instead of overflowing, as the generated code would.
  auto ua = static_cast<std::uint64_t>(a);
  auto ub = static_cast<std::uint64_t>(b);
  switch (op) {
    case Op::add:
      return static_cast<std::int64_t>(ua + ub);
    case Op::sub:
      return static_cast<std::int64_t>(ua - ub);
    case Op::mul:
      return static_cast<std::int64_t>(ua * ub);
    case Op::less:
      return a < b;
    default:
      return a == b;
  }
}

const char* op_name(Op op) {
  static const char* const names[] = {"li",  "mov", "add", "sub",   "mul", "slt", "seq",
                                      "arg", "call", "",   "jmp", "beqz", "ret"};
  return names[static_cast<std::size_t>(op)];
}

// Linear-scan register assignment. Each virtual register lives from its first to
// its last appearance. At most kMachineRegisters are live in registers at once,
// and the rest go to stack slots.
std::vector<std::string> assign_locations(const IrFunction& function) {
  constexpr int kMachineRegisters = 8;
  std::vector<std::pair<int, int>> intervals(static_cast<std::size_t>(function.registers), {-1, -1});
  auto touch = [&](std::int32_t reg, int position) {
    if (reg < 0) return;
    auto& interval = intervals[static_cast<std::size_t>(reg)];
    if (interval.first < 0) interval.first = position;
    interval.second = position;
  };
  for (std::size_t i = 0; i < function.code.size(); ++i) {
    const Instr& instr = function.code[i];
    touch(instr.dst, static_cast<int>(i));
    touch(instr.a, static_cast<int>(i));
    touch(instr.b, static_cast<int>(i));
  }

  std::vector<int> order;
  for (int reg = 0; reg < function.registers; ++reg) {
    if (intervals[static_cast<std::size_t>(reg)].first >= 0) order.push_back(reg);
  }
  std::sort(order.begin(), order.end(), [&](int x, int y) {
    return intervals[static_cast<std::size_t>(x)].first < intervals[static_cast<std::size_t>(y)].first;
  });

  std::vector<std::string> locations(static_cast<std::size_t>(function.registers));
  std::multimap<int, int> active;  // end position -> machine register
  std::vector<int> free_registers;
  for (int r = kMachineRegisters - 1; r >= 0; --r) free_registers.push_back(r);
  int stack_slots = 0;
  for (int reg : order) {
    auto [start, end] = intervals[static_cast<std::size_t>(reg)];
    while (!active.empty() && active.begin()->first < start) {
      free_registers.push_back(active.begin()->second);
      active.erase(active.begin());
    }
    if (free_registers.empty()) {
      locations[static_cast<std::size_t>(reg)] = "[sp+" + std::to_string(8 * stack_slots++) + "]";
    } else {
      int machine = free_registers.back();
      free_registers.pop_back();
      active.emplace(end, machine);
      locations[static_cast<std::size_t>(reg)] = "r" + std::to_string(machine);
    }
  }
  return locations;
}

}  // namespace

std::string generate_source(std::uint64_t seed, std::uint64_t unit, std::uint64_t functions) {
  return SourceGenerator(seed, unit).generate(functions);
}

std::vector<Token> lex(std::string_view source) {
  std::vector<Token> tokens;
  std::uint32_t line = 1;
  std::size_t i = 0;
  while (i < source.size()) {
    char c = source[i];
    if (c == '\n') ++line;
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    std::size_t start = i;
    TokenKind kind;
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      while (i < source.size() && (std::isalnum(static_cast<unsigned char>(source[i])) || source[i] == '_')) ++i;
      kind = is_keyword(source.substr(start, i - start)) ? TokenKind::keyword : TokenKind::identifier;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      while (i < source.size() && std::isdigit(static_cast<unsigned char>(source[i]))) ++i;
      kind = TokenKind::number;
    } else if (c == '=' && i + 1 < source.size() && source[i + 1] == '=') {
      i += 2;
      kind = TokenKind::punctuation;
    } else if (std::string_view("(){},;=+-*<").find(c) != std::string_view::npos) {
      ++i;
      kind = TokenKind::punctuation;
    } else {
      throw std::runtime_error("line " + std::to_string(line) + ": unexpected character '" + std::string(1, c) + "'");
    }
    tokens.push_back(Token{kind, std::string(source.substr(start, i - start)), line});
  }
  tokens.push_back(Token{TokenKind::end, "end of input", line});
  return tokens;
}

Program parse(const std::vector<Token>& tokens) { return Parser(tokens).parse_program(); }

void resolve(Program& program) {
  Resolver resolver(program);
  for (auto& function : program.functions) resolver.resolve_function(*function);
}

std::vector<IrFunction> lower(const Program& program) {
  std::vector<IrFunction> functions;
  Lowerer lowerer;
  for (const auto& function : program.functions) functions.push_back(lowerer.lower_function(*function));
  return functions;
}

std::size_t optimize(IrFunction& function) {
  std::size_t before = function.code.size();

  // Constant folding within straight-line code: known values are forgotten at
  // every label, where control flow joins.
  std::unordered_map<std::int32_t, std::int64_t> known;
  std::vector<Instr> folded;
  folded.reserve(function.code.size());
  for (Instr instr : function.code) {
    if (instr.op == Op::label) known.clear();
    if (is_arithmetic(instr.op) && known.count(instr.a) != 0 && known.count(instr.b) != 0) {
      instr = Instr{Op::constant, instr.dst, -1, -1, fold(instr.op, known[instr.a], known[instr.b])};
    }
    if (instr.dst >= 0) {
      if (instr.op == Op::constant) {
        known[instr.dst] = instr.imm;
      } else {
        known.erase(instr.dst);
      }
    }
    folded.push_back(instr);
  }

  // Dead temporaries: a constant or arithmetic result that no instruction reads.
  // Removing one can make its operands dead, so repeat until nothing changes.
  for (bool changed = true; changed;) {
    std::vector<bool> read(static_cast<std::size_t>(function.registers), false);
    for (const Instr& instr : folded) {
      if (instr.a >= 0) read[static_cast<std::size_t>(instr.a)] = true;
      if (instr.b >= 0) read[static_cast<std::size_t>(instr.b)] = true;
    }
    std::vector<Instr> kept;
    kept.reserve(folded.size());
    for (const Instr& instr : folded) {
      bool pure = instr.op == Op::constant || is_arithmetic(instr.op);
      bool dead = pure && instr.dst >= function.slots && !read[static_cast<std::size_t>(instr.dst)];
      if (!dead) kept.push_back(instr);
    }
    changed = kept.size() != folded.size();
    folded = std::move(kept);
  }

  function.code = std::move(folded);
  return before - function.code.size();
}

std::string emit(const IrFunction& function) {
  std::vector<std::string> locations = assign_locations(function);
  auto at = [&](std::int32_t reg) { return locations[static_cast<std::size_t>(reg)]; };
  std::string text = function.name + ":\n";
  for (const Instr& instr : function.code) {
    switch (instr.op) {
      case Op::label:
        text += ".L" + std::to_string(instr.imm) + ":\n";
        break;
      case Op::constant:
        text += "  li " + at(instr.dst) + ", " + std::to_string(instr.imm) + "\n";
        break;
      case Op::copy:
        text += "  mov " + at(instr.dst) + ", " + at(instr.a) + "\n";
        break;
      case Op::arg:
        text += "  arg " + std::to_string(instr.imm) + ", " + at(instr.a) + "\n";
        break;
      case Op::call:
        text += "  call f" + std::to_string(instr.imm) + " -> " + at(instr.dst) + "\n";
        break;
      case Op::jump:
        text += "  jmp .L" + std::to_string(instr.imm) + "\n";
        break;
      case Op::branch_false:
        text += "  beqz " + at(instr.a) + ", .L" + std::to_string(instr.imm) + "\n";
        break;
      case Op::ret:
        text += "  ret " + at(instr.a) + "\n";
        break;
      default:
        text += std::string("  ") + op_name(instr.op) + " " + at(instr.dst) + ", " + at(instr.a) + ", " +
                at(instr.b) + "\n";
        break;
    }
  }
  return text;
}

std::uint64_t fnv1a64(std::string_view data, std::uint64_t hash) {
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

UnitStats compile_unit(std::uint64_t seed, std::uint64_t unit, std::uint64_t functions,
                       const std::string& output_path) {
  UnitStats stats;
  std::vector<IrFunction> ir;
  {
    // The source, tokens and syntax tree die at the end of this scope.
    std::string source = generate_source(seed, unit, functions);
    std::vector<Token> tokens = lex(source);
    stats.tokens = tokens.size();
    Program program = parse(tokens);
    resolve(program);
    ir = lower(program);
  }

  std::string output;
  for (IrFunction& function : ir) {
    stats.instructions += function.code.size();
    stats.removed_instructions += optimize(function);
    output += emit(function);
  }
  stats.functions = ir.size();
  stats.output_bytes = output.size();
  stats.output_fnv1a64 = fnv1a64(output);

  std::ofstream file(output_path, std::ios::binary | std::ios::trunc);
  file.write(output.data(), static_cast<std::streamsize>(output.size()));
  file.close();
  if (!file) throw std::system_error(errno, std::generic_category(), "failed to write " + output_path);
  return stats;
}

}  // namespace ccsim

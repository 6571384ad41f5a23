// The compile step of cc-sim: a small compiler for a generated C-like language.
// It allocates like a compiler: many small, pointer-linked objects with mixed
// lifetimes (tokens, syntax tree, scoped symbol tables, IR vectors). It writes an
// output file, but the generated programs are never run.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ccsim {

enum class TokenKind : std::uint8_t { identifier, number, keyword, punctuation, end };

struct Token {
  TokenKind kind = TokenKind::end;
  std::string text;
  std::uint32_t line = 0;
};

// Syntax tree. Every node is allocated with new and owned by its parent.
struct Expr {
  enum class Kind : std::uint8_t { number, name, binary, call };
  explicit Expr(Kind k) : kind(k) {}
  virtual ~Expr() = default;
  Kind kind;
};

struct NumberExpr : Expr {
  NumberExpr() : Expr(Kind::number) {}
  std::int64_t value = 0;
};

struct NameExpr : Expr {
  NameExpr() : Expr(Kind::name) {}
  std::string name;
  int slot = -1;  // set by resolve()
};

struct BinaryExpr : Expr {
  BinaryExpr() : Expr(Kind::binary) {}
  std::string op;
  std::unique_ptr<Expr> left;
  std::unique_ptr<Expr> right;
};

struct CallExpr : Expr {
  CallExpr() : Expr(Kind::call) {}
  std::string callee;
  std::vector<std::unique_ptr<Expr>> args;
  int function = -1;  // set by resolve()
};

struct Stmt;

struct Block {
  std::vector<std::unique_ptr<Stmt>> statements;
};

struct Stmt {
  enum class Kind : std::uint8_t { let, assign, if_else, loop, return_value };
  explicit Stmt(Kind k) : kind(k) {}
  virtual ~Stmt() = default;
  Kind kind;
};

// `let name = value;` and `name = value;`
struct AssignStmt : Stmt {
  explicit AssignStmt(Kind k) : Stmt(k) {}
  std::string name;
  std::unique_ptr<Expr> value;
  int slot = -1;
};

struct IfStmt : Stmt {
  IfStmt() : Stmt(Kind::if_else) {}
  std::unique_ptr<Expr> condition;
  Block then_block;
  Block else_block;
};

struct WhileStmt : Stmt {
  WhileStmt() : Stmt(Kind::loop) {}
  std::unique_ptr<Expr> condition;
  Block body;
};

struct ReturnStmt : Stmt {
  ReturnStmt() : Stmt(Kind::return_value) {}
  std::unique_ptr<Expr> value;
};

struct Function {
  std::string name;
  std::vector<std::string> params;
  Block body;
  int slots = 0;  // local variables, parameters included; set by resolve()
};

struct Program {
  std::vector<std::unique_ptr<Function>> functions;
};

// Three-address code with virtual registers.
enum class Op : std::uint8_t { constant, copy, add, sub, mul, less, equal, arg, call, label, jump, branch_false, ret };

struct Instr {
  Op op;
  std::int32_t dst = -1;
  std::int32_t a = -1;
  std::int32_t b = -1;
  std::int64_t imm = 0;  // constant value, label number, callee index or argument position
};

struct IrFunction {
  std::string name;
  int params = 0;
  int slots = 0;      // registers below this are variables, the rest temporaries
  int registers = 0;  // registers in use
  std::vector<Instr> code;
};

// The source of one unit: `functions` functions, deterministic for (seed, unit).
std::string generate_source(std::uint64_t seed, std::uint64_t unit, std::uint64_t functions);

// Throws std::runtime_error naming the line of an unexpected character.
std::vector<Token> lex(std::string_view source);

// Throws std::runtime_error naming the line of a syntax error.
Program parse(const std::vector<Token>& tokens);

// Binds names to variable slots and calls to functions through scoped symbol
// tables. Throws std::runtime_error for an undeclared name or a wrong argument count.
void resolve(Program& program);

std::vector<IrFunction> lower(const Program& program);

// Folds constant arithmetic and drops unused temporaries; returns instructions removed.
std::size_t optimize(IrFunction& function);

// Assembly-like text, with registers assigned by a linear scan over 8 machine registers.
std::string emit(const IrFunction& function);

std::uint64_t fnv1a64(std::string_view data, std::uint64_t hash = 0xcbf29ce484222325ull);

struct UnitStats {
  std::uint64_t tokens = 0;
  std::uint64_t functions = 0;
  std::uint64_t instructions = 0;
  std::uint64_t removed_instructions = 0;
  std::uint64_t output_bytes = 0;
  std::uint64_t output_fnv1a64 = 0;
};

// Runs every stage on one unit and writes the output to `output_path`. The syntax
// tree is freed before code generation, as a compiler frees it after lowering.
// Throws std::runtime_error or std::system_error.
UnitStats compile_unit(std::uint64_t seed, std::uint64_t unit, std::uint64_t functions,
                       const std::string& output_path);

}  // namespace ccsim

#include "compiler.h"

#include <gtest/gtest.h>

#include <stdexcept>

#include "testing/run_program.h"

namespace ccsim {
namespace {

// The message of the std::runtime_error `action` throws, or a test failure.
template <typename Action>
std::string error_of(Action action) {
  try {
    action();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no std::runtime_error was thrown";
  return "";
}

TEST(Compiler, GeneratedSourceIsDeterministic) {
  EXPECT_EQ(generate_source(1, 0, 20), generate_source(1, 0, 20));
  EXPECT_NE(generate_source(1, 0, 20), generate_source(2, 0, 20));
  EXPECT_NE(generate_source(1, 0, 20), generate_source(1, 1, 20));
}

TEST(Compiler, LexesTokenKinds) {
  std::vector<Token> tokens = lex("fn long_identifier_name(a) {\n  return a == 42;\n}");
  ASSERT_EQ(tokens.size(), 13u);
  EXPECT_EQ(tokens[0].kind, TokenKind::keyword);
  EXPECT_EQ(tokens[1].kind, TokenKind::identifier);
  EXPECT_EQ(tokens[1].text, "long_identifier_name");
  EXPECT_EQ(tokens[8].text, "==");
  EXPECT_EQ(tokens[9].kind, TokenKind::number);
  EXPECT_EQ(tokens[9].line, 2u);
  EXPECT_EQ(tokens.back().kind, TokenKind::end);
}

TEST(Compiler, LexRejectsUnknownCharacter) {
  EXPECT_EQ(error_of([] { lex("fn f(a) {\n return a $ 1; }"); }), "line 2: unexpected character '$'");
}

TEST(Compiler, ParsesPrecedence) {
  Program program = parse(lex("fn f(a) { return a + 2 * 3 < 4; }"));
  ASSERT_EQ(program.functions.size(), 1u);
  const auto& ret = static_cast<const ReturnStmt&>(*program.functions[0]->body.statements[0]);
  const auto& less = static_cast<const BinaryExpr&>(*ret.value);
  EXPECT_EQ(less.op, "<");
  const auto& sum = static_cast<const BinaryExpr&>(*less.left);
  EXPECT_EQ(sum.op, "+");
  EXPECT_EQ(static_cast<const BinaryExpr&>(*sum.right).op, "*");
}

TEST(Compiler, ParseErrorNamesLine) {
  EXPECT_EQ(error_of([] { parse(lex("fn f(a) {\n let = 3; }")); }), "line 2: expected an identifier, found \"=\"");
}

TEST(Compiler, ResolveRejectsUndeclaredName) {
  Program program = parse(lex("fn f(a) { if (a) { let b = 1; } return b; }"));
  EXPECT_EQ(error_of([&] { resolve(program); }), "undeclared name \"b\"");
}

TEST(Compiler, ResolveRejectsWrongArity) {
  Program program = parse(lex("fn g(a, b) { return a; } fn f(a) { return g(a); }"));
  EXPECT_EQ(error_of([&] { resolve(program); }), "call of \"g\" with 1 arguments, expected 2");
}

TEST(Compiler, ResolveAssignsSlots) {
  EXPECT_THROW(parse(lex("fn f(a) { let b = a; { } return b; }")), std::runtime_error);  // "{ }" is no statement
  Program program = parse(lex("fn f(a) { let b = a; while (b < 3) { let c = b; b = c + 1; } return b; }"));
  resolve(program);
  EXPECT_EQ(program.functions[0]->slots, 3);
}

TEST(Compiler, OptimizeFoldsConstants) {
  Program program = parse(lex("fn f(a) { let b = 2 * 3 + 4; return b; }"));
  resolve(program);
  std::vector<IrFunction> ir = lower(program);
  ASSERT_EQ(ir.size(), 1u);
  std::size_t before = ir[0].code.size();
  std::size_t removed = optimize(ir[0]);
  EXPECT_EQ(removed, 4u);  // 2, 3, 2*3 and 4 fold into one constant 10
  EXPECT_EQ(ir[0].code.size(), before - removed);
  EXPECT_EQ(ir[0].code[0].op, Op::constant);
  EXPECT_EQ(ir[0].code[0].imm, 10);
  EXPECT_NE(emit(ir[0]).find("li r"), std::string::npos);
}

TEST(Compiler, EmitSpillsBeyondEightRegisters) {
  std::string body = "fn f(a) { ";
  for (int i = 0; i < 12; ++i) body += "let v" + std::to_string(i) + " = a + " + std::to_string(i) + "; ";
  body += "return v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9 + v10 + v11; }";
  Program program = parse(lex(body));
  resolve(program);
  std::vector<IrFunction> ir = lower(program);
  EXPECT_NE(emit(ir[0]).find("[sp+"), std::string::npos);
}

TEST(Compiler, Fnv1aKnownValues) {
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
}

TEST(Compiler, CompileUnitIsDeterministic) {
  nozero::testing::TemporaryDirectory dir;
  UnitStats first = compile_unit(5, 3, 40, dir.path() + "/a.s");
  UnitStats second = compile_unit(5, 3, 40, dir.path() + "/b.s");
  EXPECT_EQ(first.output_fnv1a64, second.output_fnv1a64);
  EXPECT_EQ(first.functions, 40u);
  EXPECT_GT(first.tokens, 40u * 20);
  EXPECT_GT(first.instructions, first.removed_instructions);
  EXPECT_EQ(nozero::testing::read_text_file(dir.path() + "/a.s"), nozero::testing::read_text_file(dir.path() + "/b.s"));
  EXPECT_EQ(first.output_fnv1a64, fnv1a64(nozero::testing::read_text_file(dir.path() + "/a.s")));
  EXPECT_NE(compile_unit(6, 3, 40, dir.path() + "/c.s").output_fnv1a64, first.output_fnv1a64);
}

TEST(Compiler, CompileUnitReportsUnwritableOutput) {
  EXPECT_THROW(compile_unit(1, 0, 2, "/nonexistent-dir/out.s"), std::system_error);
}

}  // namespace
}  // namespace ccsim

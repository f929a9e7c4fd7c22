// Unit tests of the .tl lexer: token kinds, spellings and locations,
// INDENT/DEDENT/NEWLINE structure, literals and lexical errors.
#include "tlc/Frontend/Lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

struct Lexed {
  std::vector<tlc::Token> tokens;
  std::vector<std::string> errors; // "line:col: message"
};

Lexed lexText(const std::string &text) {
  tlc::SourceFile file("t.tl", text);
  tlc::DiagnosticEngine diags(file);
  Lexed out;
  out.tokens = tlc::lex(file, diags);
  for (const tlc::Diagnostic &d : diags.diagnostics())
    out.errors.push_back(std::to_string(d.loc.line) + ":" + std::to_string(d.loc.col) + ": " +
                         d.message);
  return out;
}

/// A compact picture of the stream: NL, IN, DE, EOF, ERR, or the spelling.
std::string shape(const std::vector<tlc::Token> &toks) {
  std::string s;
  for (const tlc::Token &t : toks) {
    if (!s.empty())
      s += " ";
    switch (t.kind) {
    case tlc::TokenKind::Newline:
      s += "NL";
      break;
    case tlc::TokenKind::Indent:
      s += "IN";
      break;
    case tlc::TokenKind::Dedent:
      s += "DE";
      break;
    case tlc::TokenKind::Eof:
      s += "EOF";
      break;
    case tlc::TokenKind::Error:
      s += "ERR";
      break;
    case tlc::TokenKind::String:
      s += "\"" + t.text + "\"";
      break;
    default:
      s += t.text;
    }
  }
  return s;
}

std::string shapeOf(const std::string &text) { return shape(lexText(text).tokens); }

TEST(Lexer, EmptyInputIsJustEof) {
  EXPECT_EQ(shapeOf(""), "EOF");
  EXPECT_EQ(shapeOf("\n\n   \n# only a comment\n"), "EOF");
}

TEST(Lexer, SimpleLineEndsWithNewline) {
  EXPECT_EQ(shapeOf("x = 1"), "x = 1 NL EOF");
  EXPECT_EQ(shapeOf("x = 1\n"), "x = 1 NL EOF");
}

TEST(Lexer, TokenLocations) {
  Lexed l = lexText("ab = 12\n  \n  cd\n");
  ASSERT_GE(l.tokens.size(), 5u);
  EXPECT_EQ(l.tokens[0].loc.line, 1u);
  EXPECT_EQ(l.tokens[0].loc.col, 1u);
  EXPECT_EQ(l.tokens[1].loc.col, 4u);
  EXPECT_EQ(l.tokens[2].loc.col, 6u);
  EXPECT_EQ(l.tokens[3].kind, tlc::TokenKind::Newline);
  EXPECT_EQ(l.tokens[3].loc.col, 8u); // the newline character itself
  EXPECT_EQ(l.tokens[4].kind, tlc::TokenKind::Indent);
  EXPECT_EQ(l.tokens[5].text, "cd");
  EXPECT_EQ(l.tokens[5].loc.line, 3u);
  EXPECT_EQ(l.tokens[5].loc.col, 3u);
}

TEST(Lexer, IndentAndDedent) {
  EXPECT_EQ(shapeOf("a:\n    b\n    c\nd\n"), "a : NL IN b NL c NL DE d NL EOF");
  EXPECT_EQ(shapeOf("a:\n  b:\n    c\n"), "a : NL IN b : NL IN c NL DE DE EOF");
  // Several levels closed by one line.
  EXPECT_EQ(shapeOf("a\n  b\n    c\nd\n"), "a NL IN b NL IN c NL DE DE d NL EOF");
}

TEST(Lexer, BlankAndCommentLinesDoNotAffectIndentation) {
  EXPECT_EQ(shapeOf("a:\n    b\n\n        # deep comment\n  \n    c  # trailing\n"),
            "a : NL IN b NL c NL DE EOF");
}

TEST(Lexer, ImplicitLineJoiningInBrackets) {
  EXPECT_EQ(shapeOf("f(a,\n      b,\n  c)\nx\n"), "f ( a , b , c ) NL x NL EOF");
  EXPECT_EQ(shapeOf("t[(1,\n\n# c\n 2)]\n"), "t [ ( 1 , 2 ) ] NL EOF");
}

TEST(Lexer, BackslashContinuation) {
  EXPECT_EQ(shapeOf("x = 1 + \\\n        2\ny\n"), "x = 1 + 2 NL y NL EOF");
  EXPECT_EQ(shapeOf("x = 1 + \\\r\n 2\n"), "x = 1 + 2 NL EOF");
  Lexed l = lexText("x = 1 \\ 2\n");
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_EQ(l.errors[0], "1:7: unexpected character after line continuation character");
}

TEST(Lexer, ByteOrderMarkIsSkipped) {
  Lexed l = lexText("\xEF\xBB\xBFx = 1\n");
  EXPECT_TRUE(l.errors.empty());
  EXPECT_EQ(shape(l.tokens), "x = 1 NL EOF");
  EXPECT_EQ(l.tokens[0].loc.col, 1u);
}

TEST(Lexer, CrlfLineEndings) {
  EXPECT_EQ(shapeOf("a:\r\n    b\r\n\r\nc\r\n"), "a : NL IN b NL DE c NL EOF");
}

TEST(Lexer, DedentsAtEndOfFile) {
  EXPECT_EQ(shapeOf("a:\n  b:\n    c"), "a : NL IN b : NL IN c NL DE DE EOF");
}

TEST(Lexer, Keywords) {
  Lexed l = lexText("def with as for in if elif else and or not pass True False range deff");
  for (size_t i = 0; i < 15; ++i)
    EXPECT_EQ(l.tokens[i].kind, tlc::TokenKind::Keyword) << l.tokens[i].text;
  EXPECT_EQ(l.tokens[15].kind, tlc::TokenKind::Identifier);
  EXPECT_EQ(l.tokens[15].text, "deff");
  EXPECT_TRUE(l.errors.empty());
}

TEST(Lexer, Operators) {
  EXPECT_EQ(shapeOf("+ - * / // % ** << >> & | ^ ~ < <= > >= == != = += -= *= /= . , : @"),
            "+ - * / // % ** << >> & | ^ ~ < <= > >= == != = += -= *= /= . , : @ NL EOF");
  EXPECT_EQ(shapeOf("a//b**c"), "a // b ** c NL EOF");
  EXPECT_EQ(shapeOf("a//=b"), "a //= b NL EOF");
}

TEST(Lexer, DecimalAndHexIntegers) {
  Lexed l = lexText("0 128 1_024 0x7f 0XFF 0x7_f 9223372036854775807");
  ASSERT_TRUE(l.errors.empty()) << l.errors[0];
  std::vector<int64_t> want = {0, 128, 1024, 127, 255, 127, INT64_MAX};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(l.tokens[i].kind, tlc::TokenKind::Integer);
    EXPECT_EQ(l.tokens[i].intValue, want[i]);
  }
  EXPECT_EQ(l.tokens.back().kind, tlc::TokenKind::Eof);
  // An underscore must sit between two digits.
  EXPECT_EQ(lexText("0x_1").errors.at(0), "1:1: invalid hexadecimal literal '0x_1'");
}

TEST(Lexer, IntegerErrors) {
  EXPECT_EQ(lexText("9223372036854775808").errors.at(0),
            "1:1: integer literal '9223372036854775808' does not fit in 64 bits");
  EXPECT_EQ(lexText("0x8000000000000000").errors.at(0),
            "1:1: integer literal '0x8000000000000000' does not fit in 64 bits");
  EXPECT_EQ(lexText("x = 0x").errors.at(0), "1:5: invalid hexadecimal literal '0x'");
  EXPECT_EQ(lexText("12ab").errors.at(0), "1:1: invalid decimal literal '12ab'");
  EXPECT_EQ(lexText("1__0").errors.at(0), "1:1: invalid decimal literal '1__0'");
  EXPECT_EQ(lexText("1_").errors.at(0), "1:1: invalid decimal literal '1_'");
  EXPECT_EQ(lexText("007").errors.at(0),
            "1:1: leading zeros in decimal integer literals are not allowed; use 0x for hex");
  EXPECT_TRUE(lexText("000").errors.empty());
}

TEST(Lexer, Floats) {
  Lexed l = lexText("1.0 1e-6 .5 3. 2.5E+3 1_0.2_5 1e400x");
  std::vector<double> want = {1.0, 1e-6, 0.5, 3.0, 2500.0, 10.25};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(l.tokens[i].kind, tlc::TokenKind::Float) << i;
    EXPECT_DOUBLE_EQ(l.tokens[i].floatValue, want[i]);
  }
  EXPECT_EQ(lexText("x = 1e999").errors.at(0), "1:5: float literal '1e999' is out of range");
  EXPECT_EQ(lexText("1e").errors.at(0), "1:1: invalid decimal literal '1e'");
  // `a.b` is an attribute, `x[1:2]` a slice: no float there.
  EXPECT_EQ(shapeOf("T.f32 x[1:2]"), "T . f32 x [ 1 : 2 ] NL EOF");
}

TEST(Lexer, StringsAndEscapes) {
  Lexed l = lexText(R"(s = "a\tb\n\\ \" \'" + 'it\'s')");
  ASSERT_TRUE(l.errors.empty()) << l.errors[0];
  EXPECT_EQ(l.tokens[2].kind, tlc::TokenKind::String);
  EXPECT_EQ(l.tokens[2].text, "a\tb\n\\ \" '");
  EXPECT_EQ(l.tokens[4].text, "it's");
  EXPECT_EQ(shapeOf("'# not a comment'"), "\"# not a comment\" NL EOF");
}

TEST(Lexer, StringErrors) {
  EXPECT_EQ(lexText("s = \"abc\nt = 1\n").errors.at(0), "1:5: unterminated string literal");
  EXPECT_EQ(lexText("s = 'abc").errors.at(0), "1:5: unterminated string literal");
  EXPECT_EQ(lexText("s = 'a\\qb'").errors.at(0),
            "1:7: unknown escape sequence '\\q' (use \\n, \\t, \\\\, \\' or \\\")");
}

TEST(Lexer, UnexpectedCharacters) {
  Lexed l = lexText("x = 1 $ 2\ny = a ; b\n");
  ASSERT_EQ(l.errors.size(), 2u);
  EXPECT_EQ(l.errors[0], "1:7: unexpected character '$'");
  EXPECT_EQ(l.errors[1], "2:7: unexpected character ';'");
  EXPECT_EQ(shape(l.tokens), "x = 1 ERR 2 NL y = a ERR b NL EOF");
  // A multi-byte UTF-8 character is one error, not one per byte.
  Lexed u = lexText("x = \xc3\xa9t\xc3\xa9\n");
  ASSERT_EQ(u.errors.size(), 1u);
  EXPECT_EQ(u.errors[0], "1:5: unexpected character (byte 0xc3); identifiers are ASCII, other "
                         "characters belong in comments and strings");
  EXPECT_TRUE(lexText("# h\xc3\xa9 \x01 $\nx = 'caf\xc3\xa9'\n").errors.empty());
  EXPECT_EQ(lexText(std::string("x = 1\0\n", 7)).errors.at(0),
            "1:6: unexpected character (byte 0x00)");
}

TEST(Lexer, TabInIndentationIsAnError) {
  Lexed l = lexText("a:\n\tb\n\tc\n");
  ASSERT_EQ(l.errors.size(), 1u); // reported once per file
  EXPECT_EQ(l.errors[0], "2:1: tab in indentation; indent with spaces");
  // Tabs between tokens, and before comments, are fine.
  EXPECT_TRUE(lexText("x =\t1\n\t# note\n\t\n").errors.empty());
}

TEST(Lexer, InconsistentDedentIsAnError) {
  Lexed l = lexText("a:\n    b:\n        c\n      d\n");
  ASSERT_EQ(l.errors.size(), 1u);
  EXPECT_EQ(l.errors[0], "4:7: unindent does not match any outer indentation level");
}

TEST(Lexer, MismatchedCloserClosesTheInnerBrackets) {
  // `)` closes both the `[` and the `(`: the next line is a line again.
  EXPECT_EQ(shapeOf("f(a[0)\nx\n"), "f ( a [ 0 ) NL x NL EOF");
  // A closer without opener changes nothing.
  EXPECT_EQ(shapeOf("a)\nb\n"), "a ) NL b NL EOF");
}

TEST(Lexer, StatementKeywordEndsAnUnclosedBracket) {
  // Lines inside brackets that can only start a statement end the brackets.
  EXPECT_EQ(shapeOf("a:\n  x = f(1,\n  for i\n"), "a : NL IN x = f ( 1 , NL for i NL DE EOF");
  EXPECT_EQ(shapeOf("x = (1\n@T.kernel\n"), "x = ( 1 NL @ T . kernel NL EOF");
  // Other words, even keywords that may continue an expression, do not.
  EXPECT_EQ(shapeOf("x = (a\nif c else b, pass_me)\n"),
            "x = ( a if c else b , pass_me ) NL EOF");
}

TEST(Lexer, UnclosedBracketEndsWithoutNewline) {
  // The parser then meets EOF and reports the unclosed bracket.
  EXPECT_EQ(shapeOf("f(a,\n  b\n"), "f ( a , b EOF");
}

TEST(Lexer, DescribeToken) {
  Lexed l = lexText("foo +=\n");
  EXPECT_EQ(tlc::describeToken(l.tokens[0]), "'foo'");
  EXPECT_EQ(tlc::describeToken(l.tokens[1]), "'+='");
  EXPECT_EQ(tlc::describeToken(l.tokens[2]), "end of line");
  EXPECT_EQ(tlc::describeToken(l.tokens[3]), "end of file");
}

} // namespace

// Tests for tlrt/ShapeExpr.h: the shape-expression grammar, Python-style
// floor division, and error messages.
#include "tlrt/ShapeExpr.h"

#include "RuntimeTestUtil.h"

using namespace tlrt;
using tlrt_test::errorOf;

namespace {

int64_t ev(const std::string &s, const SymbolValues &syms = {}) {
  return ShapeExpr::parse(s).eval(syms);
}

TEST(ShapeExpr, PlainSymbol) {
  ShapeExpr e = ShapeExpr::parse("M");
  EXPECT_TRUE(e.isSymbol());
  EXPECT_EQ(e.symbol(), "M");
  EXPECT_EQ(e.eval({{"M", 7}}), 7);
  EXPECT_FALSE(ShapeExpr::parse("M + 0").isSymbol());
}

TEST(ShapeExpr, Arithmetic) {
  SymbolValues s{{"K", 1000}, {"N", 7}};
  EXPECT_EQ(ev("K // 32", s), 31);
  EXPECT_EQ(ev("K % 32", s), 8);
  EXPECT_EQ(ev("T.ceildiv(K, 128)", s), 8);
  EXPECT_EQ(ev("ceildiv(K, 128)", s), 8);
  EXPECT_EQ(ev("2 + 3 * 4"), 14);
  EXPECT_EQ(ev("(2 + 3) * 4"), 20);
  EXPECT_EQ(ev("10 - 4 - 3"), 3);
  EXPECT_EQ(ev("100 // 10 // 3"), 3);
  EXPECT_EQ(ev("T.max(N, 9) + T.min(N, 9)", s), 16);
  EXPECT_EQ(ev("-N + 10", s), 3);
  EXPECT_EQ(ev("  K//128*128 ", s), 896);
  EXPECT_EQ(ev("T.ceildiv(T.max(N, 1), 2) * (K % 7)", s), 4 * (1000 % 7));
}

TEST(ShapeExpr, FloorSemantics) {
  EXPECT_EQ(ev("-7 // 2"), -4);
  EXPECT_EQ(ev("7 // -2"), -4);
  EXPECT_EQ(ev("-7 % 2"), 1);
  EXPECT_EQ(ev("7 % -2"), -1);
  EXPECT_EQ(ev("ceildiv(-7, 2)"), -3);
  EXPECT_EQ(ev("ceildiv(0, 128)"), 0);
  EXPECT_EQ(floorDiv(INT64_MIN, 2), INT64_MIN / 2);
}

TEST(ShapeExpr, Symbols) {
  auto syms = ShapeExpr::parse("T.ceildiv(K, BK) * K + M").symbols();
  ASSERT_EQ(syms.size(), 3u);
  EXPECT_EQ(syms[0], "K");
  EXPECT_EQ(syms[1], "BK");
  EXPECT_EQ(syms[2], "M");
}

TEST(ShapeExpr, ParseErrors) {
  EXPECT_EQ(errorOf([] { ShapeExpr::parse("K / 32"); }),
            "bad shape expression 'K / 32': '/' is not allowed (use '//' for floor division) at "
            "column 3");
  EXPECT_EQ(errorOf([] { ShapeExpr::parse("K +"); }),
            "bad shape expression 'K +': expected a value at the end at column 4");
  EXPECT_EQ(errorOf([] { ShapeExpr::parse("(K"); }),
            "bad shape expression '(K': expected ')' at the end at column 3");
  EXPECT_EQ(errorOf([] { ShapeExpr::parse("T.floor(K, 2)"); }),
            "bad shape expression 'T.floor(K, 2)': unknown function 'floor' (expected ceildiv, "
            "max or min) at column 8");
  EXPECT_EQ(errorOf([] { ShapeExpr::parse("T.K"); }),
            "bad shape expression 'T.K': 'T.K' must be called at column 4");
  EXPECT_EQ(errorOf([] { ShapeExpr::parse("ceildiv(K)"); }),
            "bad shape expression 'ceildiv(K)': expected ',', found ')' at column 10");
  EXPECT_EQ(errorOf([] { ShapeExpr::parse("K $ 2"); }),
            "bad shape expression 'K $ 2': unexpected '$' at column 3");
  EXPECT_EQ(errorOf([] { ShapeExpr::parse(""); }),
            "bad shape expression '': expected a value at the end at column 1");
  EXPECT_EQ(errorOf([] { ShapeExpr::parse("99999999999999999999"); }),
            "bad shape expression '99999999999999999999': integer literal too large at column 19");
}

TEST(ShapeExpr, EvalErrors) {
  EXPECT_EQ(errorOf([] { ev("K // 2"); }), "shape expression 'K // 2': symbol 'K' is not bound");
  EXPECT_EQ(errorOf([] { ev("K // N", {{"K", 4}, {"N", 0}}); }),
            "shape expression 'K // N': division by zero in 4 // 0");
  EXPECT_EQ(errorOf([] { ev("K * K", {{"K", int64_t(1) << 40}}); }),
            "shape expression 'K * K': integer overflow in 1099511627776 * 1099511627776");
}

} // namespace

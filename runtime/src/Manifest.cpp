// Manifest loading and validation (docs/abi.md, version 1).
#include "tlrt/Manifest.h"

#include "tlrt/Error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

namespace tlrt {

using json = nlohmann::json;

const char *targetName(Target t) {
  switch (t) {
  case Target::SM90a: return "sm_90a";
  case Target::SM100a: return "sm_100a";
  case Target::CPU: return "cpu";
  }
  return "?";
}

const char *swizzleName(Swizzle s) {
  switch (s) {
  case Swizzle::None: return "none";
  case Swizzle::B32: return "32B";
  case Swizzle::B64: return "64B";
  case Swizzle::B128: return "128B";
  }
  return "?";
}

std::string DimSpec::text() const {
  return fixed ? std::to_string(value) : expr->text();
}

int ParamSpec::dynamicDims() const {
  int n = 0;
  for (const auto &d : shape)
    n += d.fixed ? 0 : 1;
  return n;
}

int KernelSpec::paramIndex(const std::string &n) const {
  for (size_t i = 0; i < params.size(); ++i)
    if (params[i].name == n)
      return static_cast<int>(i);
  return -1;
}

const KernelSpec *Manifest::findKernel(const std::string &n) const {
  for (const auto &k : kernels)
    if (k.name == n)
      return &k;
  return nullptr;
}

std::string GridExpr::str() const {
  switch (kind) {
  case Const: return std::to_string(value);
  case Dim: return fmt::format("dim(param {}, {})", param, dim);
  case Scalar: return fmt::format("scalar(param {})", param);
  default: break;
  }
  const char *op = "";
  switch (kind) {
  case Add: op = "add"; break;
  case Sub: op = "sub"; break;
  case Mul: op = "mul"; break;
  case FloorDiv: op = "floordiv"; break;
  case CeilDiv: op = "ceildiv"; break;
  case Rem: op = "rem"; break;
  case Max: op = "max"; break;
  case Min: op = "min"; break;
  default: break;
  }
  return fmt::format("{}({}, {})", op, lhs->str(), rhs->str());
}

namespace {

class Parser {
public:
  explicit Parser(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string &field, const std::string &why) const {
    if (field.empty())
      throw Error(fmt::format("{}: {}", file_, why));
    throw Error(fmt::format("{}: {}: {}", file_, field, why));
  }

  static std::string kindOf(const json &j) {
    switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_float: return "a floating-point number";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    default: return "an unexpected value";
    }
  }

  const json &member(const json &obj, const std::string &key, const std::string &field) const {
    auto it = obj.find(key);
    if (it == obj.end())
      fail(field, "missing");
    return *it;
  }
  std::string str(const json &j, const std::string &field) const {
    if (!j.is_string())
      fail(field, fmt::format("expected a string, got {}", kindOf(j)));
    return j.get<std::string>();
  }
  int64_t integer(const json &j, const std::string &field) const {
    if (j.is_number_unsigned()) {
      if (j.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
        fail(field, "integer too large");
      return static_cast<int64_t>(j.get<uint64_t>());
    }
    if (!j.is_number_integer())
      fail(field, fmt::format("expected an integer, got {}", kindOf(j)));
    return j.get<int64_t>();
  }
  const json &array(const json &j, const std::string &field) const {
    if (!j.is_array())
      fail(field, fmt::format("expected an array, got {}", kindOf(j)));
    return j;
  }
  std::array<int64_t, 3> triple(const json &j, const std::string &field, int64_t minValue) const {
    array(j, field);
    if (j.size() != 3)
      fail(field, fmt::format("expected 3 entries, got {}", j.size()));
    std::array<int64_t, 3> r{};
    for (size_t i = 0; i < 3; ++i) {
      std::string f = fmt::format("{}[{}]", field, i);
      r[i] = integer(j[i], f);
      if (r[i] < minValue)
        fail(f, fmt::format("must be at least {}, got {}", minValue, r[i]));
    }
    return r;
  }

  Manifest parse(const std::string &text) {
    json root;
    try {
      root = json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
    } catch (const json::parse_error &e) {
      fail("", fmt::format("not valid JSON: {}", e.what()));
    }
    if (!root.is_object())
      fail("", fmt::format("expected a JSON object, got {}", kindOf(root)));

    Manifest m;
    std::string format = str(member(root, "format", "format"), "format");
    if (format != "tlc-manifest")
      fail("format", fmt::format("expected \"tlc-manifest\", got \"{}\"", format));
    m.version = static_cast<int>(integer(member(root, "version", "version"), "version"));
    if (m.version != 1)
      fail("version", fmt::format("unsupported version {} (this runtime reads version 1)", m.version));
    std::string target = str(member(root, "target", "target"), "target");
    if (target == "sm_90a")
      m.target = Target::SM90a;
    else if (target == "sm_100a")
      m.target = Target::SM100a;
    else if (target == "cpu")
      m.target = Target::CPU;
    else
      fail("target", fmt::format("unknown target '{}' (expected sm_90a, sm_100a or cpu)", target));
    m.module = str(member(root, "module", "module"), "module");
    if (m.module.empty())
      fail("module", "empty");
    auto endsWith = [&](const char *suf) {
      std::string s(suf);
      return m.module.size() > s.size() &&
             m.module.compare(m.module.size() - s.size(), s.size(), s) == 0;
    };
    if (m.target == Target::CPU && !endsWith(".so"))
      fail("module", fmt::format("a cpu module must be a .so file, got '{}'", m.module));
    if (m.target != Target::CPU && !endsWith(".ptx") && !endsWith(".cubin") && !endsWith(".fatbin"))
      fail("module", fmt::format("a {} module must be a .ptx, .cubin or .fatbin file, got '{}'",
                                 target, m.module));
    if (root.contains("source"))
      m.source = str(root["source"], "source");

    const json &kernels = array(member(root, "kernels", "kernels"), "kernels");
    if (kernels.empty())
      fail("kernels", "no kernels");
    std::set<std::string> names;
    for (size_t i = 0; i < kernels.size(); ++i) {
      KernelSpec k = parseKernel(kernels[i], fmt::format("kernels[{}]", i), m.target);
      if (!names.insert(k.name).second)
        fail(fmt::format("kernels[{}].name", i), fmt::format("duplicate kernel '{}'", k.name));
      m.kernels.push_back(std::move(k));
    }
    if (root.contains("sequence")) {
      const json &seq = array(root["sequence"], "sequence");
      if (seq.empty())
        fail("sequence", "empty (leave it out for a module without a sequence)");
      for (size_t i = 0; i < seq.size(); ++i) {
        std::string f = fmt::format("sequence[{}]", i);
        std::string name = str(seq[i], f);
        if (!names.count(name))
          fail(f, fmt::format("no kernel '{}' in this manifest", name));
        m.sequence.push_back(name);
      }
    }
    return m;
  }

  KernelSpec parseKernel(const json &j, const std::string &f, Target target) {
    if (!j.is_object())
      fail(f, fmt::format("expected an object, got {}", kindOf(j)));
    KernelSpec k;
    k.name = str(member(j, "name", f + ".name"), f + ".name");
    if (k.name.empty())
      fail(f + ".name", "empty");
    k.entry = str(member(j, "entry", f + ".entry"), f + ".entry");
    if (k.entry.empty())
      fail(f + ".entry", "empty");

    if (j.contains("constants")) {
      const json &c = j["constants"];
      if (!c.is_object())
        fail(f + ".constants", fmt::format("expected an object, got {}", kindOf(c)));
      for (auto it = c.begin(); it != c.end(); ++it) {
        std::string cf = fmt::format("{}.constants.{}", f, it.key());
        if (it->is_boolean())
          k.constants[it.key()] = it->get<bool>() ? 1 : 0;
        else if (it->is_number_integer() || it->is_number_unsigned())
          k.constants[it.key()] = integer(*it, cf);
        else if (it->is_number_float())
          k.floatConstants[it.key()] = it->get<double>();
        else
          fail(cf, fmt::format("expected a number or boolean, got {}", kindOf(*it)));
      }
    }

    const json &params = array(member(j, "params", f + ".params"), f + ".params");
    std::set<std::string> pnames;
    for (size_t i = 0; i < params.size(); ++i) {
      std::string pf = fmt::format("{}.params[{}]", f, i);
      ParamSpec p = parseParam(params[i], pf);
      if (!pnames.insert(p.name).second)
        fail(pf + ".name", fmt::format("duplicate parameter '{}'", p.name));
      k.params.push_back(std::move(p));
    }
    bindSymbols(k, f);

    if (j.contains("threads") || isGpuTarget(target)) {
      k.threads = triple(member(j, "threads", f + ".threads"), f + ".threads", 1);
      int64_t total = k.threads[0] * k.threads[1] * k.threads[2];
      if (isGpuTarget(target) && total > 1024)
        fail(f + ".threads", fmt::format("{} threads per block exceed the limit of 1024", total));
    }
    const json &grid = array(member(j, "grid", f + ".grid"), f + ".grid");
    if (grid.size() != 3)
      fail(f + ".grid", fmt::format("expected 3 entries, got {}", grid.size()));
    for (size_t i = 0; i < 3; ++i)
      k.grid[i] = parseGrid(grid[i], fmt::format("{}.grid[{}]", f, i), k);
    if (j.contains("cluster"))
      k.cluster = triple(j["cluster"], f + ".cluster", 1);
    if (j.contains("persistent")) {
      if (!j["persistent"].is_boolean())
        fail(f + ".persistent", "expected true or false");
      k.persistent = j["persistent"].get<bool>();
    }
    if (j.contains("shared_bytes")) {
      k.sharedBytes = integer(j["shared_bytes"], f + ".shared_bytes");
      if (k.sharedBytes < 0)
        fail(f + ".shared_bytes", fmt::format("must not be negative, got {}", k.sharedBytes));
    }
    if (j.contains("tma")) {
      const json &t = array(j["tma"], f + ".tma");
      for (size_t i = 0; i < t.size(); ++i)
        k.tma.push_back(parseTma(t[i], fmt::format("{}.tma[{}]", f, i), k));
    }
    return k;
  }

  ParamSpec parseParam(const json &j, const std::string &f) {
    if (!j.is_object())
      fail(f, fmt::format("expected an object, got {}", kindOf(j)));
    ParamSpec p;
    p.name = str(member(j, "name", f + ".name"), f + ".name");
    if (p.name.empty())
      fail(f + ".name", "empty");
    std::string kind = str(member(j, "kind", f + ".kind"), f + ".kind");
    if (kind == "tensor")
      p.kind = ParamKind::Tensor;
    else if (kind == "scalar")
      p.kind = ParamKind::Scalar;
    else
      fail(f + ".kind", fmt::format("unknown kind '{}' (expected tensor or scalar)", kind));
    std::string dt = str(member(j, "dtype", f + ".dtype"), f + ".dtype");
    auto d = parseDType(dt);
    if (!d)
      fail(f + ".dtype", fmt::format("unknown dtype '{}' (expected one of {})", dt, allDTypeNames()));
    p.dtype = *d;

    if (p.kind == ParamKind::Scalar) {
      if (j.contains("shape"))
        fail(f + ".shape", "a scalar parameter has no shape");
      switch (p.dtype) {
      case DType::Float32: case DType::Float16: case DType::BFloat16: case DType::Int32:
      case DType::Int64: case DType::Bool: case DType::Int8: case DType::UInt8:
      case DType::UInt16: case DType::UInt32: case DType::UInt64:
        break;
      default:
        fail(f + ".dtype", fmt::format("dtype {} cannot be a scalar parameter", dt));
      }
      return p;
    }

    const json &shape = array(member(j, "shape", f + ".shape"), f + ".shape");
    if (shape.empty())
      fail(f + ".shape", "a tensor needs at least one dimension");
    for (size_t i = 0; i < shape.size(); ++i) {
      std::string df = fmt::format("{}.shape[{}]", f, i);
      DimSpec dim;
      if (shape[i].is_string()) {
        dim.fixed = false;
        try {
          dim.expr = ShapeExpr::parse(shape[i].get<std::string>());
        } catch (const Error &e) {
          fail(df, e.what());
        }
      } else {
        dim.value = integer(shape[i], df);
        if (dim.value < 0)
          fail(df, fmt::format("a dimension must not be negative, got {}", dim.value));
      }
      p.shape.push_back(std::move(dim));
    }
    if (p.dtype == DType::Float4E2M1 && p.shape.back().fixed && p.shape.back().value % 2 != 0)
      fail(fmt::format("{}.shape[{}]", f, p.shape.size() - 1),
           fmt::format("the last dimension of a float4_e2m1 tensor must be even, got {}",
                       p.shape.back().value));
    return p;
  }

  // docs/abi.md: each plain symbol is bound at its first occurrence
  // (parameters in order, dimensions in order); every symbol must occur
  // plainly somewhere.
  void bindSymbols(KernelSpec &k, const std::string &f) {
    for (size_t p = 0; p < k.params.size(); ++p)
      for (size_t d = 0; d < k.params[p].shape.size(); ++d) {
        const DimSpec &dim = k.params[p].shape[d];
        if (!dim.fixed && dim.expr->isSymbol() && !k.symbolSites.count(dim.expr->symbol()))
          k.symbolSites[dim.expr->symbol()] = {static_cast<int>(p), static_cast<int>(d)};
      }
    for (size_t p = 0; p < k.params.size(); ++p)
      for (size_t d = 0; d < k.params[p].shape.size(); ++d) {
        const DimSpec &dim = k.params[p].shape[d];
        if (dim.fixed)
          continue;
        for (const auto &s : dim.expr->symbols())
          if (!k.symbolSites.count(s))
            fail(fmt::format("{}.params[{}].shape[{}]", f, p, d),
                 fmt::format("symbol '{}' in '{}' never occurs as a plain dimension, so no "
                             "argument binds it",
                             s, dim.expr->text()));
      }
  }

  GridExpr parseGrid(const json &j, const std::string &f, const KernelSpec &k) {
    GridExpr g;
    if (j.is_number_integer() || j.is_number_unsigned()) {
      g.kind = GridExpr::Const;
      g.value = integer(j, f);
      if (g.value < 0)
        fail(f, fmt::format("a grid size must not be negative, got {}", g.value));
      return g;
    }
    if (!j.is_object())
      fail(f, fmt::format("expected an integer or an object, got {}", kindOf(j)));
    int keys = j.contains("dim") + j.contains("scalar") + j.contains("op");
    if (keys != 1)
      fail(f, "expected exactly one of \"dim\", \"scalar\" or \"op\"");
    if (j.contains("dim")) {
      const json &d = array(j["dim"], f + ".dim");
      if (d.size() != 2)
        fail(f + ".dim", fmt::format("expected [param, dimension], got {} entries", d.size()));
      g.kind = GridExpr::Dim;
      int64_t p = integer(d[0], f + ".dim[0]");
      int64_t dd = integer(d[1], f + ".dim[1]");
      if (p < 0 || p >= static_cast<int64_t>(k.params.size()))
        fail(f + ".dim[0]", fmt::format("parameter index {} out of range (kernel has {})", p,
                                        k.params.size()));
      const ParamSpec &ps = k.params[p];
      if (ps.kind != ParamKind::Tensor)
        fail(f + ".dim[0]", fmt::format("parameter {} ('{}') is not a tensor", p, ps.name));
      if (dd < 0 || dd >= ps.rank())
        fail(f + ".dim[1]", fmt::format("dimension {} out of range for '{}' of rank {}", dd,
                                        ps.name, ps.rank()));
      g.param = static_cast<int>(p);
      g.dim = static_cast<int>(dd);
      return g;
    }
    if (j.contains("scalar")) {
      g.kind = GridExpr::Scalar;
      int64_t p = integer(j["scalar"], f + ".scalar");
      if (p < 0 || p >= static_cast<int64_t>(k.params.size()))
        fail(f + ".scalar", fmt::format("parameter index {} out of range (kernel has {})", p,
                                        k.params.size()));
      const ParamSpec &ps = k.params[p];
      if (ps.kind != ParamKind::Scalar || !isIntegerDType(ps.dtype))
        fail(f + ".scalar",
             fmt::format("parameter {} ('{}') is not an integer scalar", p, ps.name));
      g.param = static_cast<int>(p);
      return g;
    }
    std::string op = str(j["op"], f + ".op");
    static const std::pair<const char *, GridExpr::Kind> ops[] = {
        {"add", GridExpr::Add},         {"sub", GridExpr::Sub},
        {"mul", GridExpr::Mul},         {"floordiv", GridExpr::FloorDiv},
        {"ceildiv", GridExpr::CeilDiv}, {"rem", GridExpr::Rem},
        {"max", GridExpr::Max},         {"min", GridExpr::Min}};
    bool found = false;
    for (const auto &o : ops)
      if (op == o.first) {
        g.kind = o.second;
        found = true;
      }
    if (!found)
      fail(f + ".op", fmt::format("unknown op '{}' (expected add sub mul floordiv ceildiv rem "
                                  "max min)", op));
    const json &args = array(member(j, "args", f + ".args"), f + ".args");
    if (args.size() != 2)
      fail(f + ".args", fmt::format("expected 2 arguments, got {}", args.size()));
    g.lhs = std::make_shared<GridExpr>(parseGrid(args[0], f + ".args[0]", k));
    g.rhs = std::make_shared<GridExpr>(parseGrid(args[1], f + ".args[1]", k));
    return g;
  }

  TmaSpec parseTma(const json &j, const std::string &f, const KernelSpec &k) {
    if (!j.is_object())
      fail(f, fmt::format("expected an object, got {}", kindOf(j)));
    TmaSpec t;
    int64_t p = integer(member(j, "param", f + ".param"), f + ".param");
    if (p < 0 || p >= static_cast<int64_t>(k.params.size()))
      fail(f + ".param", fmt::format("parameter index {} out of range (kernel has {})", p,
                                     k.params.size()));
    const ParamSpec &ps = k.params[p];
    if (ps.kind != ParamKind::Tensor)
      fail(f + ".param", fmt::format("parameter {} ('{}') is not a tensor", p, ps.name));
    t.param = static_cast<int>(p);
    std::string dt = str(member(j, "dtype", f + ".dtype"), f + ".dtype");
    auto d = parseDType(dt);
    if (!d)
      fail(f + ".dtype", fmt::format("unknown dtype '{}' (expected one of {})", dt, allDTypeNames()));
    if (*d != ps.dtype)
      fail(f + ".dtype", fmt::format("dtype {} differs from parameter '{}' ({})", dt, ps.name,
                                     dtypeName(ps.dtype)));
    t.dtype = *d;
    const json &box = array(member(j, "box", f + ".box"), f + ".box");
    if (static_cast<int>(box.size()) != ps.rank())
      fail(f + ".box", fmt::format("expected {} entries (the rank of '{}'), got {}", ps.rank(),
                                   ps.name, box.size()));
    if (ps.rank() > 5)
      fail(f + ".param", fmt::format("a tensor map supports rank 1 to 5, '{}' has rank {}",
                                     ps.name, ps.rank()));
    for (size_t i = 0; i < box.size(); ++i) {
      std::string bf = fmt::format("{}.box[{}]", f, i);
      int64_t b = integer(box[i], bf);
      if (b < 1 || b > 256)
        fail(bf, fmt::format("a box dimension must be in 1..256, got {}", b));
      t.box.push_back(b);
    }
    std::string sw = j.contains("swizzle") ? str(j["swizzle"], f + ".swizzle") : "none";
    if (sw == "none")
      t.swizzle = Swizzle::None;
    else if (sw == "32B")
      t.swizzle = Swizzle::B32;
    else if (sw == "64B")
      t.swizzle = Swizzle::B64;
    else if (sw == "128B")
      t.swizzle = Swizzle::B128;
    else
      fail(f + ".swizzle", fmt::format("unknown swizzle '{}' (expected none, 32B, 64B or 128B)", sw));
    if (j.contains("unpack_fp4")) {
      if (!j["unpack_fp4"].is_boolean())
        fail(f + ".unpack_fp4", "expected true or false");
      t.unpackFP4 = j["unpack_fp4"].get<bool>();
      if (t.unpackFP4 && t.dtype != DType::Float4E2M1)
        fail(f + ".unpack_fp4", fmt::format("only a float4_e2m1 tensor map can be unpacked, this "
                                            "one is {}", dtypeName(t.dtype)));
    }
    return t;
  }

private:
  std::string file_;
};

std::string dirOf(const std::string &path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

} // namespace

Manifest Manifest::parse(const std::string &jsonText, const std::string &path) {
  Manifest m = Parser(path).parse(jsonText);
  m.path = path;
  m.directory = dirOf(path);
  m.modulePath = (!m.module.empty() && m.module[0] == '/') ? m.module : m.directory + "/" + m.module;
  return m;
}

Manifest Manifest::load(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(fmt::format("{}: cannot open the manifest", path));
  std::stringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    throw Error(fmt::format("{}: cannot read the manifest", path));
  return parse(ss.str(), path);
}

} // namespace tlrt

// tlc: compiles .tl tile-language kernels to the tl dialect, PTX or CPU code.
//
// The driver only orchestrates: read the file, parse, analyse, generate tl IR,
// and hand it to the target pipeline. Every user error goes through the
// front end's DiagnosticEngine (file:line:col with a caret) or, for driver
// errors that have no source position, "tlc: error: ...". Exit status is 0 on
// success and 1 on any error; tlc never aborts on bad input.
#include "tlc/Frontend/AST.h"
#include "tlc/Frontend/Parser.h"
#include "tlc/Frontend/Sema.h"
#include "tlc/Frontend/UserWords.h"

#ifdef TLC_HAVE_MLIRGEN
#include "tlc/Frontend/MLIRGen.h"
#include "tl/IR/TlDialect.h"
#include "tlc/Target/CPUTarget.h"
#include "tlc/Target/Manifest.h"
#include "tlc/Conversion/TlToNVVM.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"
#endif

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr const char *kExamples = R"(Examples:
  tlc examples/gemm_bf16.tl --emit=ast            print the syntax tree
  tlc examples/gemm_bf16.tl --emit=tl             print the tl dialect IR
  tlc examples/gemm_bf16.tl -D BM=64 -D stages=4 --emit=tl -o gemm.mlir
  tlc kernels.tl --kernel rmsnorm --target sm_100a --emit=ptx -o rmsnorm.ptx
  tlc examples/rmsnorm.tl --target cpu --emit=so -o rmsnorm.so   (+ rmsnorm.manifest.json)
  tlc examples/gemm_fp8_mx.tl --target cpu --arch sm_90a --emit=so -o mx90.so
                                                  the CPU runs the sm_90a branch of T.arch
)";

struct Options {
  std::string input;
  std::string target = "sm_90a";
  std::string arch; // --arch: T.arch for --target=cpu (empty: the default)
  std::vector<std::string> defines;
  std::string kernel;
  std::string emit = "ptx";
  std::string output = "-";
  int64_t smemBudget = -1;
  bool dumpSema = false;
  bool printLocations = false;
  bool printIRAfterAll = false;
  bool checkBounds = false;
  std::vector<std::string> disabledPasses;
  std::vector<std::string> enabledPasses;
};

int driverError(const std::string &message) {
  std::cerr << "tlc: error: " << message << "\n";
  return 1;
}

std::optional<std::string> readFile(const std::string &path, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = fmt::format("cannot open '{}': {}", path, std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    error = fmt::format("cannot read '{}'", path);
    return std::nullopt;
  }
  return buffer.str();
}

/// Writes `text` to the -o destination ("-" = stdout).
int writeOutput(const std::string &path, const std::string &text) {
  if (path == "-") {
    std::cout << text;
    std::cout.flush();
    return 0;
  }
  std::ofstream out(path, std::ios::binary);
  if (!out)
    return driverError(fmt::format("cannot write '{}': {}", path, std::strerror(errno)));
  out << text;
  return out ? 0 : driverError(fmt::format("cannot write '{}'", path));
}

/// Parses -D NAME=VALUE arguments into SemaOptions::defines.
bool parseDefines(const std::vector<std::string> &defines, tlc::SemaOptions &options) {
  for (const std::string &d : defines) {
    size_t eq = d.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == d.size()) {
      driverError(fmt::format("-D expects NAME=VALUE, got '{}'", d));
      return false;
    }
    std::string name = d.substr(0, eq);
    if (options.defines.count(name)) {
      driverError(fmt::format("-D {} is given twice", name));
      return false;
    }
    options.defines[name] = d.substr(eq + 1);
  }
  return true;
}

#ifdef TLC_HAVE_MLIRGEN
/// The manifest object (docs/abi.md) of every tl kernel in `ir`, in module
/// order, with parameter names from the source. Errors are already reported.
mlir::LogicalResult buildManifests(const tlc::Module &ast, mlir::ModuleOp ir,
                                   std::vector<llvm::json::Object> &kernels) {
  for (auto func : ir.getOps<mlir::func::FuncOp>()) {
    if (!mlir::tl::isTlKernel(func))
      continue;
    tlc::KernelManifestOptions mo;
    // Block i > 0 of a kernel with several T.Kernel blocks is "<name>_<i>"
    // (Sema checks that no kernel has that name).
    auto isPartOf = [&](llvm::StringRef fn, llvm::StringRef def) {
      if (fn == def)
        return true;
      if (!fn.starts_with(def) || fn.size() < def.size() + 2 || fn[def.size()] != '_')
        return false;
      return llvm::all_of(fn.drop_front(def.size() + 1), llvm::isDigit);
    };
    for (const tlc::KernelDef &k : ast.kernels)
      if (mo.paramNames.empty() && isPartOf(func.getName(), k.name))
        for (const tlc::Param &p : k.params)
          mo.paramNames.push_back(p.name);
    mlir::FailureOr<llvm::json::Object> k = tlc::buildKernelManifest(func, mo);
    if (mlir::failed(k))
      return mlir::failure();
    kernels.push_back(std::move(*k));
  }
  return mlir::success();
}

/// --target=cpu --emit=llvm|obj|so: lowers the tl module for the host and
/// writes the code, plus the manifest (docs/abi.md) beside an obj/so.
int emitCPU(const Options &opts, const tlc::Module &ast, mlir::ModuleOp ir) {
  bool binary = opts.emit != "llvm";
  if (binary && opts.output == "-")
    return driverError(fmt::format("--emit={} writes a file and its manifest: give -o FILE",
                                   opts.emit));
  std::vector<llvm::json::Object> kernels;
  if (binary && mlir::failed(buildManifests(ast, ir, kernels)))
    return 1;
  if (mlir::failed(tlc::lowerToLLVMDialectForCPU(ir, opts.checkBounds)))
    return 1;
  std::string error;
  if (opts.emit == "llvm") {
    mlir::FailureOr<std::string> text = tlc::emitCPULLVMIR(ir, error);
    if (mlir::failed(text))
      return driverError(error);
    return writeOutput(opts.output, *text);
  }
  mlir::FailureOr<std::string> object = tlc::emitCPUObject(ir, error);
  if (mlir::failed(object))
    return driverError(error);
  if (opts.emit == "obj") {
    if (int rc = writeOutput(opts.output, *object))
      return rc;
  } else if (!tlc::linkCPUSharedObject(*object, opts.output, error)) {
    return driverError(error);
  }
  std::string manifest = tlc::renderManifest(
      "cpu", llvm::sys::path::filename(opts.output), opts.input, std::move(kernels));
  return writeOutput(tlc::manifestPathFor(opts.output), manifest);
}

/// --target=sm_90a|sm_100a --emit=llvm|ptx|cubin: lowers the tl module to
/// LLVM + NVVM, then PTX (and a cubin through ptxas), with the manifest
/// (docs/abi.md) beside a ptx/cubin file.
int emitGPU(const Options &opts, const tlc::Module &ast, mlir::ModuleOp ir) {
  bool binary = opts.emit == "cubin";
  if (binary && opts.output == "-")
    return driverError("--emit=cubin writes a file and its manifest: give -o FILE");
  std::vector<llvm::json::Object> kernels;
  if (mlir::failed(buildManifests(ast, ir, kernels)))
    return 1;
  tlc::GpuTargetOptions gpu;
  gpu.chip = opts.target;
  std::vector<tlc::GpuKernelInfo> infos;
  gpu.smemLimit = opts.smemBudget >= 0 ? opts.smemBudget : gpu.smemLimit;
  gpu.disabledPasses = opts.disabledPasses;
  gpu.enabledPasses = opts.enabledPasses;
  gpu.checkBounds = opts.checkBounds;
  if (mlir::failed(tlc::lowerTlKernelsToNVVM(ir, gpu, infos, opts.printIRAfterAll)))
    return 1;
  for (size_t i = 0; i < kernels.size() && i < infos.size(); ++i) {
    const tlc::GpuKernelInfo &info = infos[i];
    llvm::json::Object &k = kernels[i];
    k["threads"] = llvm::json::Array{info.threads, 1, 1};
    k["shared_bytes"] = info.sharedBytes;
    // The launch's cluster shape (a CTA pair along M is launched as [2, 1, 1]
    // of the persistent 1-D grid).
    llvm::json::Array cluster;
    for (int64_t c : info.cluster)
      cluster.push_back(c);
    k["cluster"] = std::move(cluster);
    if (info.persistent)
      k["persistent"] = true;
    llvm::json::Array tma;
    const llvm::json::Array *params = k.getArray("params");
    for (const tlc::GpuTmaMap &m : info.tma) {
      llvm::json::Array box;
      for (int64_t b : m.box)
        box.push_back(b);
      // The map's dtype is its parameter's manifest dtype: the IR's signless integer type
      // cannot tell uint8 from int8, the parameter's (tl.arg_dtypes) can.
      std::string dtype = m.dtype;
      if (params && m.param >= 0 && size_t(m.param) < params->size())
        if (const llvm::json::Object *p = (*params)[m.param].getAsObject())
          if (std::optional<llvm::StringRef> d = p->getString("dtype"))
            dtype = d->str();
      llvm::json::Object entry{{"param", m.param}, {"dtype", dtype}, {"box", std::move(box)},
                               {"swizzle", m.swizzle}};
      if (m.unpackFP4)
        entry["unpack_fp4"] = true;
      tma.push_back(std::move(entry));
    }
    k["tma"] = std::move(tma);
  }
  std::string text;
  if (opts.emit == "llvm") {
    if (mlir::failed(tlc::translateToLLVMIR(ir, text)))
      return 1;
    return writeOutput(opts.output, text);
  }
  if (mlir::failed(tlc::translateToPTX(ir, opts.target, text)))
    return 1;
  std::string codePath = opts.output;
  if (opts.emit == "ptx") {
    if (int rc = writeOutput(opts.output, text))
      return rc;
    if (opts.output == "-")
      return 0;
  } else {
    // cubin: assemble with ptxas (CUDA toolkit), found through $TLC_PTXAS,
    // /usr/local/cuda/bin or PATH.
    std::string ptxPath = opts.output + ".ptx";
    if (int rc = writeOutput(ptxPath, text))
      return rc;
    std::string ptxas;
    if (const char *env = std::getenv("TLC_PTXAS"))
      ptxas = env;
    else if (llvm::sys::fs::exists("/usr/local/cuda/bin/ptxas"))
      ptxas = "/usr/local/cuda/bin/ptxas";
    else if (auto found = llvm::sys::findProgramByName("ptxas"))
      ptxas = *found;
    if (ptxas.empty())
      return driverError("--emit=cubin needs ptxas (CUDA toolkit): not found in "
                         "/usr/local/cuda/bin or PATH; set TLC_PTXAS or use --emit=ptx");
    std::string arch = "-arch=" + opts.target;
    llvm::SmallVector<llvm::StringRef> argv{ptxas, arch, "-O3", ptxPath, "-o", opts.output};
    std::string err;
    int rc = llvm::sys::ExecuteAndWait(ptxas, argv, std::nullopt, {}, 0, 0, &err);
    llvm::sys::fs::remove(ptxPath);
    if (rc != 0)
      return driverError(fmt::format("ptxas failed on the generated PTX (exit {}){}", rc,
                                     err.empty() ? "" : ": " + err));
  }
  std::string manifest = tlc::renderManifest(
      opts.target, llvm::sys::path::filename(codePath), opts.input, std::move(kernels));
  return writeOutput(tlc::manifestPathFor(codePath), manifest);
}
#endif

int run(const Options &opts) {
  std::string readError;
  std::optional<std::string> text = readFile(opts.input, readError);
  if (!text)
    return driverError(readError);

  tlc::SourceFile file(opts.input, std::move(*text));
  tlc::DiagnosticEngine diags(file, &std::cerr);
  std::unique_ptr<tlc::Module> module = tlc::parseModule(file, diags);
  if (!module || diags.hasErrors())
    return 1;

  tlc::SemaOptions semaOptions;
  semaOptions.target = opts.target;
  if (!opts.arch.empty() && opts.target != "cpu" && opts.arch != opts.target)
    return driverError(fmt::format(
        "--arch={} does not match --target={}: a GPU target compiles for its own architecture "
        "(T.arch is \"{}\"); --arch chooses T.arch for --target=cpu",
        opts.arch, opts.target, opts.target));
  semaOptions.arch = opts.arch;
  semaOptions.kernel = opts.kernel;
  if (opts.smemBudget >= 0)
    semaOptions.sharedMemoryBudget = opts.smemBudget;
  else if (opts.target == "cpu")
    semaOptions.sharedMemoryBudget = 0;
  if (!parseDefines(opts.defines, semaOptions))
    return 1;

  if (opts.emit == "ast" && !opts.dumpSema) {
    std::ostringstream os;
    tlc::dumpAST(*module, os, /*withSema=*/false);
    return writeOutput(opts.output, os.str());
  }

  tlc::SemaResult sema;
  if (!tlc::analyze(*module, semaOptions, diags, sema) || diags.hasErrors())
    return 1;
  if (opts.emit == "ast") {
    std::ostringstream os;
    tlc::dumpAST(*module, os, /*withSema=*/true);
    return writeOutput(opts.output, os.str());
  }

#ifdef TLC_HAVE_MLIRGEN
  mlir::MLIRContext context;
  context.loadDialect<mlir::tl::TlDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                      mlir::math::MathDialect, mlir::memref::MemRefDialect,
                      mlir::scf::SCFDialect, mlir::vector::VectorDialect>();
  // Diagnostics from MLIR (verifier failures, lowering errors) carry the
  // user's FileLineColLoc; print them in the front end's format (without
  // the IR of the op, which is not what the user wrote).
  context.printOpOnDiagnostic(false);
  auto sourceLoc = [](mlir::Location l) {
    tlc::SourceLoc loc;
    // A kernel argument's location is its name around the source position.
    if (auto n = mlir::dyn_cast<mlir::NameLoc>(l))
      l = n.getChildLoc();
    if (auto flc = mlir::dyn_cast<mlir::FileLineColLoc>(l)) {
      loc.line = flc.getLine();
      loc.col = flc.getColumn();
    }
    return loc;
  };
  auto report = [&](mlir::Diagnostic &d) {
    tlc::Severity sev = d.getSeverity() == mlir::DiagnosticSeverity::Error
                            ? tlc::Severity::Error
                            : d.getSeverity() == mlir::DiagnosticSeverity::Warning
                                  ? tlc::Severity::Warning
                                  : tlc::Severity::Note;
    // Code from a @T.macro carries CallSiteLocs: the macro body's line,
    // then a note at each call site, innermost first.
    mlir::Location l = d.getLocation();
    if (auto n = mlir::dyn_cast<mlir::NameLoc>(l)) // a named allocation
      l = n.getChildLoc();
    llvm::SmallVector<mlir::Location> callers;
    if (auto cs = mlir::dyn_cast<mlir::CallSiteLoc>(l)) {
      l = cs.getCallee();
      mlir::Location rest = cs.getCaller();
      while (auto outer = mlir::dyn_cast<mlir::CallSiteLoc>(rest)) {
        callers.push_back(outer.getCallee());
        rest = outer.getCaller();
      }
      callers.push_back(rest);
    }
    diags.report(sev, sourceLoc(l), tlc::userWords(d.str()));
    for (mlir::Location c : callers)
      diags.report(tlc::Severity::Note, sourceLoc(c), "in the macro called here");
  };
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    report(d);
    // The notes attached to it (the buffers of a budget error, ...).
    for (mlir::Diagnostic &note : d.getNotes())
      report(note);
    return mlir::success();
  });
  mlir::OwningOpRef<mlir::ModuleOp> ir = tlc::mlirGen(context, *module, sema, diags);
  if (!ir || diags.hasErrors())
    return 1;
  if (opts.emit == "tl") {
    std::string out;
    llvm::raw_string_ostream os(out);
    mlir::OpPrintingFlags flags;
    if (opts.printLocations)
      flags.enableDebugInfo(/*enable=*/true, /*prettyForm=*/false);
    ir->print(os, flags);
    os << "\n";
    return writeOutput(opts.output, out);
  }
  if (opts.target == "cpu" && (opts.emit == "llvm" || opts.emit == "obj" || opts.emit == "so"))
    return emitCPU(opts, *module, ir.get());
  if (opts.target != "cpu" && (opts.emit == "llvm" || opts.emit == "ptx" || opts.emit == "cubin"))
    return emitGPU(opts, *module, ir.get());
#else
  if (opts.emit == "tl")
    return driverError("--emit=tl needs MLIRGen, which this build of tlc does not include");
#endif
  if (opts.target == "cpu" && (opts.emit == "ptx" || opts.emit == "cubin"))
    return driverError(fmt::format("--emit={} is a GPU output; --target=cpu emits llvm, obj or so",
                                   opts.emit));
  if (opts.target != "cpu" && (opts.emit == "so" || opts.emit == "obj"))
    return driverError(fmt::format(
        "--emit={} is the CPU target's output; use --target=cpu (or --emit=ptx/cubin for {})",
        opts.emit, opts.target));
  return driverError(fmt::format(
      "--emit={} for --target={} needs the MLIR back ends, which this build of tlc does not "
      "include (--emit=ast only)",
      opts.emit, opts.target));
}

} // namespace

int main(int argc, char **argv) {
  CLI::App app{"tlc: compile .tl tile-language kernels for NVIDIA Hopper (sm_90a), "
               "Blackwell (sm_100a) and the CPU."};
  app.name("tlc");
  app.footer(kExamples);
  Options opts;
  app.add_option("file", opts.input, "The .tl source file")->required();
  app.add_option("--target", opts.target, "Target: sm_100a, sm_90a or cpu (default sm_90a)")
      ->check(CLI::IsMember({"sm_100a", "sm_90a", "cpu"}));
  app.add_option("--arch", opts.arch,
                 "The GPU architecture the kernel is written for, the value of T.arch: sm_100a "
                 "or sm_90a. With --target=cpu it picks which architecture's code the CPU runs "
                 "(default sm_100a); a GPU target is its own architecture (--arch may only "
                 "repeat it)")
      ->check(CLI::IsMember({"sm_100a", "sm_90a"}));
  app.add_option("-D", opts.defines,
                 "Set a compile-time parameter: -D NAME=VALUE (repeatable)")
      ->allow_extra_args(false);
  app.add_option("--kernel", opts.kernel, "Compile only this kernel of the file");
  app.add_option("--emit", opts.emit,
                 "What to produce: ast, tl, llvm, ptx, cubin, obj or so (cpu: llvm, obj, so)")
      ->check(CLI::IsMember({"ast", "tl", "llvm", "ptx", "cubin", "obj", "so"}));
  app.add_option("-o", opts.output, "Output file (default: standard output)");
  app.add_option("--smem-budget", opts.smemBudget,
                 "Shared-memory budget per block in bytes (default 232448 on GPUs, "
                 "unlimited on cpu)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--print-ir-after-all", opts.printIRAfterAll,
               "GPU targets: print the IR after every pass of the GPU pipeline to stderr");
  app.add_option("--disable-pass", opts.disabledPasses,
                 "GPU targets: leave out a scheduling pass (tl-rotate-mma, tl-pingpong, "
                 "tl-persistent), for ablations; repeatable")
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(tlc::kOptionalGpuPasses),
                                                     std::end(tlc::kOptionalGpuPasses))));
  app.add_option("--enable-pass", opts.enabledPasses,
                 "GPU targets: run an opt-in scheduling pass (tl-pingpong: the two consumer "
                 "warpgroups of an attention loop take turns on the tensor cores; off by default, "
                 "it measured slower); repeatable")
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(tlc::kOptInGpuPasses),
                                                     std::end(tlc::kOptInGpuPasses))));
  app.add_flag("--check-bounds", opts.checkBounds,
               "Trap on an out-of-range element access of a global tensor (kernel, file:line:col "
               "and indices reported; GPU: printf + trap, CPU: stderr + abort) instead of reading "
               "zero / dropping the store; also checks accesses under T.no_bounds_check()");
  app.add_flag("--dump-sema", opts.dumpSema,
               "With --emit=ast: run semantic analysis and print its annotations");
  app.add_flag("--print-locations", opts.printLocations,
               "With --emit=tl: print source locations on every op");
  app.set_version_flag("--version", std::string("tlc ") + TLC_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    if (e.get_exit_code() == 0)
      return app.exit(e);
    std::cerr << "tlc: error: " << e.what() << "\n"
              << "Run 'tlc --help' for usage.\n";
    return 1;
  }
  return run(opts);
}

# lit configuration for tlc: front end, dialect, conversion, target and tool tests.
import os
import lit.formats

config.name = "tlc"
config.test_format = lit.formats.ShTest(execute_external=False)
config.suffixes = [".tl", ".mlir", ".test"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt", "unit", "fuzz", "kernels"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tlc_obj_root, "test")

path = os.pathsep.join([config.tlc_tools_dir, config.llvm_tools_dir,
                        config.environment.get("PATH", os.environ.get("PATH", ""))])
config.environment["PATH"] = path
config.substitutions.append(("%examples", os.path.join(config.tlc_src_root, "examples")))
config.substitutions.append(("%src_root", config.tlc_src_root))

if config.tlc_enable_compiler:
    config.available_features.add("compiler")
if config.tlc_enable_fuzzers:
    config.available_features.add("fuzzers")
if os.path.exists("/usr/local/cuda/bin/ptxas"):
    config.available_features.add("ptxas")
    config.environment["PTXAS"] = "/usr/local/cuda/bin/ptxas"
    config.substitutions.append(("%ptxas", "/usr/local/cuda/bin/ptxas"))

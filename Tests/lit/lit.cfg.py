# lit configuration for mlcnc's command-line tests: IR printing, diagnostics, the CLI,
# numerics against the NumPy reference, and the contract's conformance suite.
# Run with: lit -sv Tests/lit   (after `swift build -c release`, or set MLCNC=path/to/mlcnc)
import os
import shutil

import lit.formats

config.name = "mlcnc"
config.test_format = lit.formats.ShTest()
config.suffixes = [".mlcn", ".test"]
config.excludes = ["Inputs"]
config.test_source_root = os.path.dirname(__file__)
root = os.path.abspath(os.path.join(config.test_source_root, "..", ".."))
config.test_exec_root = os.path.join(root, ".build", "lit")

mlcnc = os.environ.get("MLCNC", os.path.join(root, ".build", "release", "mlcnc"))
if not os.path.exists(mlcnc):
    lit_config.fatal(f"mlcnc binary not found at {mlcnc}: run `swift build -c release` or set MLCNC")
llvm_bin = "/usr/lib/llvm-14/bin"
if not os.path.exists(os.path.join(llvm_bin, "FileCheck")):
    lit_config.fatal("FileCheck not found in /usr/lib/llvm-14/bin: run tools/setup (installs llvm-dev)")

config.substitutions.append(("%mlcnc", mlcnc))
config.substitutions.append(("%ref", "python3 " + os.path.join(root, "tools", "mlcn_ref.py")))
config.substitutions.append(("%tools", os.path.join(root, "tools")))
config.substitutions.append(("%graphs", os.path.join(root, "graphs")))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))
config.environment["PATH"] = os.pathsep.join([llvm_bin, config.environment.get("PATH", os.environ["PATH"])])

# OpenCL: PoCL shows no device without a writable cache folder.
for var in ("POCL_CACHE_DIR", "MLCNC_CACHE_DIR", "HOME"):
    if var in os.environ:
        config.environment[var] = os.environ[var]
config.environment.setdefault("POCL_CACHE_DIR", os.path.join(root, ".build", "pocl-cache"))
config.environment.setdefault("MLCNC_CACHE_DIR", os.path.join(root, ".build", "mlcnc-cache"))
config.environment["PYTHONDONTWRITEBYTECODE"] = "1"

# The contract's conformance suite lives beside the checkout.
conformance = os.environ.get("MLCNC_CONFORMANCE", os.path.join(root, "..", "shared", "conformance"))
if os.path.exists(os.path.join(conformance, "run.sh")):
    config.available_features.add("conformance")
    config.substitutions.append(("%conformance_dir", conformance))
    config.substitutions.append(("%conformance", os.path.join(conformance, "run.sh")))
else:
    lit_config.warning(f"conformance suite not found at {conformance}: its tests are skipped")
if shutil.which("dot"):
    config.available_features.add("graphviz")

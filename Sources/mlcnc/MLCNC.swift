// The mlcnc command line: one small command per subcommand (see Commands/), shared
// options in Options.swift. Every error reaches the user as one clear message and exit 1.

import ArgumentParser
import Foundation

@main
struct MLCNC: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "mlcnc",
    abstract: "Compile multi-lane networks (.mlcn) and run them on one or many OpenCL devices.",
    discussion: """
      Typical use:
        mlcnc devices                                  list OpenCL devices and their ids
        mlcnc check net.mlcn                           parse and verify, print diagnostics
        mlcnc ir net.mlcn --batch 4                    print the graph IR after the passes
        mlcnc compile net.mlcn -o net.mlcnpkg          compile (weights from --weights or a seed)
        mlcnc run net.mlcnpkg --input x=x.npy --output y=y.npy --repeat 10
        mlcnc plan net.mlcn --devices all --dot plan.dot
        mlcnc tune net.mlcn --batch 32                 tune kernel tiles for this machine (cached)

      PoCL (the CPU OpenCL driver) needs a writable cache folder: set POCL_CACHE_DIR. \
      Compiled kernels are cached in $MLCNC_CACHE_DIR (default ~/.cache/mlcnc).
      """,
    subcommands: [Devices.self, Check.self, IR.self, Compile.self, Run.self, PlanCommand.self, Tune.self, Ops.self, Grad.self, Train.self, Eval.self, Search.self])
}

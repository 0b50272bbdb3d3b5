// The kernel sources embedded at build time (Kernels/*.cl, see EmbedKernelsPlugin).

public enum KernelLibrary {
  /// The embedded source of a kernel file with the shared header in front.
  public static func source(_ file: String) -> String {
    (KernelSources.files["common.h"] ?? "") + "\n" + (KernelSources.files[file] ?? "#error missing kernel file \(file)\n")
  }
}

// Byte counts as people read them (12.5 MiB), for plans, memory errors and reports.

import Foundation

/// Formats byte counts.
public enum ByteCount {
  public static func format(_ b: Int) -> String {
    b >= 1 << 30 ? String(format: "%.2f GiB", Double(b) / Double(1 << 30))
      : b >= 1 << 20 ? String(format: "%.1f MiB", Double(b) / Double(1 << 20))
      : b >= 1 << 10 ? String(format: "%.1f KiB", Double(b) / Double(1 << 10)) : "\(b) B"
  }
}

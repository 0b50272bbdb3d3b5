// Where something is in a source file: shared by the frontend, the IR and every
// diagnostic that points at a line.

/// A 1-based line and column (columns count characters).
public struct SourceLocation: Hashable, Sendable, CustomStringConvertible {
  public var line: Int
  public var column: Int
  public init(line: Int, column: Int) { self.line = line; self.column = column }
  public static let unknown = SourceLocation(line: 0, column: 0)
  public var description: String { "\(line):\(column)" }
}

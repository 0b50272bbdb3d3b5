// Source files, locations and diagnostics: every error a user sees is rendered here as
// `file:line:col: error: message`, then the source line and a caret under the column.
import Foundation
import MLCNBase

/// A file of `.mlcn` source, kept whole so diagnostics can quote its lines.
public struct SourceFile: Sendable {
  public let path: String
  public let text: String
  public let lines: [Substring]

  public init(path: String, text: String) {
    self.path = path
    self.text = text
    self.lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline })
  }

  /// Reads a file; a missing file or one that is not UTF-8 text becomes a diagnostic.
  public static func load(path: String) throws(DiagnosticError) -> SourceFile {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw DiagnosticError(file: path, message: "no such file")
    }
    guard !isDirectory.boolValue else { throw DiagnosticError(file: path, message: "is a directory, not a file") }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DiagnosticError(file: path, message: "cannot read file (permission denied?)")
    }
    return try decode(data, path: path)
  }

  /// The source of `data` read as `path`; bytes that are not UTF-8 text become a
  /// diagnostic at the first bad byte.
  public static func decode(_ data: Data, path: String) throws(DiagnosticError) -> SourceFile {
    guard let text = String(data: data, encoding: .utf8) else {
      // Point at the first bad byte: line and column of the valid text before it.
      // Foundation and table 3-7 agree on what is UTF-8; should they not, blame the last byte.
      let offset = min(firstInvalidUTF8Offset(data), data.count - 1)
      let before = String(decoding: data.prefix(offset), as: UTF8.self)
      let lossy = SourceFile(path: path, text: String(decoding: data, as: UTF8.self))
      let line = before.filter(\.isNewline).count + 1
      let column = (before.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).last?.count ?? 0) + 1
      throw DiagnosticError(source: lossy, Diagnostic(SourceLocation(line: line, column: column),
                                                       "not a UTF-8 text file (invalid byte 0x\(String(data[data.startIndex + offset], radix: 16)) at offset \(offset))"))
    }
    return SourceFile(path: path, text: text)
  }

  /// Offset of the first byte that does not start a well-formed UTF-8 sequence (the
  /// Unicode standard's table 3-7), or `data.count`. One pass: searching for the longest
  /// prefix that decodes took minutes on a large file and could stop inside a valid
  /// multi-byte character.
  static func firstInvalidUTF8Offset(_ data: Data) -> Int {
    let b = [UInt8](data)
    var i = 0
    while i < b.count {
      let length: Int
      var low: UInt8 = 0x80, high: UInt8 = 0xBF  // range of the second byte
      switch b[i] {
      case 0x00...0x7F: i += 1; continue
      case 0xC2...0xDF: length = 2
      case 0xE0: length = 3; low = 0xA0
      case 0xE1...0xEC, 0xEE...0xEF: length = 3
      case 0xED: length = 3; high = 0x9F
      case 0xF0: length = 4; low = 0x90
      case 0xF1...0xF3: length = 4
      case 0xF4: length = 4; high = 0x8F
      default: return i
      }
      guard i + length <= b.count, (low...high).contains(b[i + 1]) else { return i }
      for k in 2..<length where !(0x80...0xBF).contains(b[i + k]) { return i }
      i += length
    }
    return b.count
  }
}


public struct Diagnostic: Sendable, Equatable {
  public var location: SourceLocation
  public var message: String
  public init(_ location: SourceLocation, _ message: String) {
    self.location = location
    self.message = message
  }
}

/// The one error type of the frontend and the IR builder: a diagnostic plus the file it is in.
public struct DiagnosticError: Error, Sendable, CustomStringConvertible {
  public var file: String
  public var diagnostic: Diagnostic
  /// Source line to quote under the message (empty when there is none).
  public var sourceLine: String

  public init(file: String, message: String) {
    self.file = file
    self.diagnostic = Diagnostic(.unknown, message)
    self.sourceLine = ""
  }

  public init(source: SourceFile, _ diagnostic: Diagnostic) {
    self.file = source.path
    self.diagnostic = diagnostic
    let l = diagnostic.location.line
    self.sourceLine = (l >= 1 && l <= source.lines.count) ? String(source.lines[l - 1]) : ""
  }

  /// `file:line:col: error: message`, the source line and a caret.
  public var description: String {
    let loc = diagnostic.location
    guard loc.line > 0 else { return "\(file): error: \(diagnostic.message)" }
    var out = "\(file):\(loc.line):\(loc.column): error: \(diagnostic.message)"
    if !sourceLine.isEmpty {
      // Tabs stay tabs in both lines so the caret lines up in a terminal; other control
      // characters become spaces.
      let printable = sourceLine.map { $0 == "\t" || !($0.isASCII && $0.asciiValue! < 32) ? $0 : " " }
      let caret = printable.prefix(max(0, loc.column - 1)).map { $0 == "\t" ? "\t" : " " }.joined()
      out += "\n" + String(printable) + "\n" + caret + "^"
    }
    return out
  }
}

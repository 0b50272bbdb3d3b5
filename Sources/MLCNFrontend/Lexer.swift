// Turns .mlcn text into tokens. Comments (`#` to end of line) are dropped; runs of blank
// lines collapse to one newline token so the parser only sees statement boundaries.

import MLCNBase

public struct Lexer {
  private let source: SourceFile
  private let chars: [Character]
  private var index = 0
  private var line = 1
  private var column = 1

  public init(_ source: SourceFile) {
    self.source = source
    self.chars = Array(source.text)
  }

  public mutating func tokenize() throws(DiagnosticError) -> [Token] {
    var tokens: [Token] = []
    while true {
      let token = try next()
      if case .newline = token.kind, let last = tokens.last, last.kind == .newline { continue }
      if case .newline = token.kind, tokens.isEmpty { continue }
      tokens.append(token)
      if token.kind == .endOfFile { return tokens }
    }
  }

  private var current: Character? { index < chars.count ? chars[index] : nil }

  private mutating func advance() {
    if chars[index] == "\n" || chars[index] == "\r\n" { line += 1; column = 1 } else { column += 1 }
    index += 1
  }

  private func error(_ loc: SourceLocation, _ message: String) -> DiagnosticError {
    DiagnosticError(source: source, Diagnostic(loc, message))
  }

  private mutating func next() throws(DiagnosticError) -> Token {
    // Skip spaces, tabs, carriage returns and comments.
    while let c = current {
      if c == " " || c == "\t" || c == "\r" { advance(); continue }
      if c == "#" { while let d = current, d != "\n", d != "\r\n" { advance() }; continue }
      break
    }
    let loc = SourceLocation(line: line, column: column)
    guard let c = current else { return Token(kind: .endOfFile, location: loc) }
    if c == "\n" || c == "\r\n" { advance(); return Token(kind: .newline, location: loc) }
    if c.isASCII && (c.isLetter || c == "_") {
      var s = ""
      while let d = current, d.isASCII && (d.isLetter || d.isNumber || d == "_") { s.append(d); advance() }
      return Token(kind: .identifier(s), location: loc)
    }
    if c.isASCII && c.isNumber { return try number(at: loc) }
    if c == "\"" { return try string(at: loc) }
    if "=(),[]{}:-".contains(c) { advance(); return Token(kind: .symbol(c), location: loc) }
    let shown = c.isASCII && c.asciiValue! >= 32 && c.asciiValue! < 127
      ? "'\(c)'" : "U+" + String(c.unicodeScalars.first!.value, radix: 16, uppercase: true)
    throw error(loc, "unexpected character \(shown)")
  }

  /// INT := [0-9]+ ; FLOAT := [0-9]+ '.' [0-9]* ([eE] [+-]? [0-9]+)?
  private mutating func number(at loc: SourceLocation) throws(DiagnosticError) -> Token {
    var s = ""
    var isFloat = false
    while let d = current, d.isASCII && d.isNumber { s.append(d); advance() }
    if current == "." { isFloat = true; s.append("."); advance()
      while let d = current, d.isASCII && d.isNumber { s.append(d); advance() }
    }
    if current == "e" || current == "E" {
      isFloat = true; s.append("e"); advance()
      if current == "+" || current == "-" { s.append(current!); advance() }
      guard let d = current, d.isASCII && d.isNumber else { throw error(loc, "malformed number '\(s)'") }
      while let d = current, d.isASCII && d.isNumber { s.append(d); advance() }
    }
    if let d = current, d.isASCII && (d.isLetter || d == "_") {
      throw error(loc, "malformed number '\(s)\(d)'")
    }
    if isFloat {
      guard let v = Double(s) else { throw error(loc, "malformed number '\(s)'") }
      return Token(kind: .float(v), location: loc)
    }
    guard let v = Int(s) else { throw error(loc, "integer '\(s)' is too large") }
    return Token(kind: .integer(v), location: loc)
  }

  private mutating func string(at loc: SourceLocation) throws(DiagnosticError) -> Token {
    advance()
    var s = ""
    while let d = current, d != "\"" {
      if d == "\n" || d == "\r\n" { throw error(loc, "unterminated string") }
      s.append(d); advance()
    }
    guard current == "\"" else { throw error(loc, "unterminated string") }
    advance()
    return Token(kind: .string(s), location: loc)
  }
}

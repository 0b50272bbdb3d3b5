// Tokens of the .mlcn language. Newlines are tokens because the grammar is one statement a line.

import MLCNBase

public enum TokenKind: Equatable, Sendable {
  case identifier(String)
  case integer(Int)
  case float(Double)
  case string(String)
  case symbol(Character)  // = ( ) , [ ] { } : -
  case newline
  case endOfFile
}

public struct Token: Sendable {
  public var kind: TokenKind
  public var location: SourceLocation

  /// How the token reads in a message ("'{'", "identifier 'conv'", "end of line").
  public var spelling: String {
    switch kind {
    case .identifier(let s): return "'\(s)'"
    case .integer(let i): return "'\(i)'"
    case .float(let f): return "'\(f)'"
    case .string(let s): return "string \"\(s)\""
    case .symbol(let c): return "'\(c)'"
    case .newline: return "end of line"
    case .endOfFile: return "end of file"
    }
  }
}

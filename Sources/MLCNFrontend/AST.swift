// The abstract syntax tree of a .mlcn file: a direct image of the grammar in DESIGN.md
// section 2. Every node carries its source location; meaning is given by the IR builder.

import MLCNBase

/// `shape := '[' dim { ',' dim } ']'`, `dim := INT | 'N'`.
public enum Dim: Equatable, Sendable, CustomStringConvertible {
  case batch
  case fixed(Int)
  public var description: String {
    switch self { case .batch: "N"; case .fixed(let n): "\(n)" }
  }
}

/// `value := INT | FLOAT | IDENT | STRING | '[' value { ',' value } ']'`.
public struct Value: Equatable, Sendable {
  public enum Kind: Equatable, Sendable {
    case int(Int)
    case float(Double)
    case identifier(String)
    case string(String)
    case list([Value])
  }
  public var kind: Kind
  public var location: SourceLocation
  public init(_ kind: Kind, at location: SourceLocation) { self.kind = kind; self.location = location }

  /// How the value reads back in a message.
  public var spelling: String {
    switch kind {
    case .int(let i): "\(i)"
    case .float(let f): "\(f)"
    case .identifier(let s): s
    case .string(let s): "\"\(s)\""
    case .list(let vs): "[" + vs.map(\.spelling).joined(separator: ", ") + "]"
    }
  }
}

/// `arg := IDENT | IDENT '=' value`. Positional operands have no key.
public struct CallArgument: Equatable, Sendable {
  public var key: String?
  public var value: Value
  public var location: SourceLocation
  public init(key: String?, value: Value, location: SourceLocation) {
    self.key = key; self.value = value; self.location = location
  }
}

public struct Name: Equatable, Sendable {
  public var text: String
  public var location: SourceLocation
  public init(_ text: String, at location: SourceLocation) { self.text = text; self.location = location }
}

public indirect enum Statement: Equatable, Sendable {
  /// `'input' IDENT ':' shape`
  case input(name: Name, shape: [Dim], shapeLocation: SourceLocation)
  /// `IDENT '=' IDENT '(' args ')'`
  case assign(name: Name, op: Name, arguments: [CallArgument])
  /// `'lane' IDENT '{' ... '}'` (count nil) or `'lanes' IDENT '[' INT ']' '{' ... '}'`
  case lane(name: Name, count: Int?, body: [Statement], yield: Name)
  /// `'output' IDENT { ',' IDENT }`
  case output([Name])
}

/// `file := 'network' IDENT { stmt }`
public struct Program: Equatable, Sendable {
  public var name: Name
  public var statements: [Statement]
  public init(name: Name, statements: [Statement]) { self.name = name; self.statements = statements }
}

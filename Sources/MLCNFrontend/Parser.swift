// A hand-written recursive-descent parser for .mlcn. Each method's comment is the grammar
// rule it parses; errors point at the token where the rule could not go on.

import MLCNBase

public struct Parser {
  private let source: SourceFile
  private var tokens: [Token]
  private var position = 0

  public init(_ source: SourceFile) throws(DiagnosticError) {
    self.source = source
    var lexer = Lexer(source)
    self.tokens = try lexer.tokenize()
  }

  /// Parses a whole file.
  public static func parse(_ source: SourceFile) throws(DiagnosticError) -> Program {
    var parser = try Parser(source)
    return try parser.parseFile()
  }

  // MARK: - Token helpers

  private var token: Token { tokens[position] }
  private mutating func advance() { if position < tokens.count - 1 { position += 1 } }

  private func error(_ message: String, at loc: SourceLocation? = nil) -> DiagnosticError {
    DiagnosticError(source: source, Diagnostic(loc ?? token.location, message))
  }

  private func isSymbol(_ c: Character) -> Bool { token.kind == .symbol(c) }

  private mutating func expectSymbol(_ c: Character, _ context: String) throws(DiagnosticError) {
    guard isSymbol(c) else { throw error("expected '\(c)' \(context), found \(token.spelling)") }
    advance()
  }

  private mutating func expectIdentifier(_ what: String) throws(DiagnosticError) -> Name {
    guard case .identifier(let s) = token.kind else { throw error("expected \(what), found \(token.spelling)") }
    let name = Name(s, at: token.location)
    advance()
    return name
  }

  private mutating func expectInteger(_ what: String) throws(DiagnosticError) -> Int {
    guard case .integer(let i) = token.kind else { throw error("expected \(what), found \(token.spelling)") }
    advance()
    return i
  }

  /// A statement ends at a newline, or just before a `}` or the end of the file.
  private mutating func endStatement() throws(DiagnosticError) {
    switch token.kind {
    case .newline: advance()
    case .endOfFile, .symbol("}"): break
    default: throw error("expected end of line after statement, found \(token.spelling)")
    }
  }

  private mutating func skipNewlines() { while token.kind == .newline { advance() } }

  // MARK: - Rules

  /// file := 'network' IDENT { stmt }
  mutating func parseFile() throws(DiagnosticError) -> Program {
    skipNewlines()
    if token.kind == .endOfFile { throw error("empty file: expected 'network NAME'") }
    guard token.kind == .identifier("network") else {
      throw error("expected 'network NAME' as the first statement, found \(token.spelling)")
    }
    advance()
    let name = try expectIdentifier("network name")
    try endStatement()
    var statements: [Statement] = []
    skipNewlines()
    while token.kind != .endOfFile {
      if isSymbol("}") { throw error("'}' without an open lane block") }
      statements.append(try parseStatement())
      skipNewlines()
    }
    return Program(name: name, statements: statements)
  }

  /// stmt := 'input' IDENT ':' shape | IDENT '=' IDENT '(' args ')' | 'lane' ... | 'lanes' ... | 'output' ...
  mutating func parseStatement() throws(DiagnosticError) -> Statement {
    guard case .identifier(let word) = token.kind else {
      throw error("expected a statement, found \(token.spelling)")
    }
    let next = tokens[min(position + 1, tokens.count - 1)]
    if next.kind != .symbol("=") {
      switch word {
      case "input": return try parseInput()
      case "output": return try parseOutput()
      case "lane": return try parseLane(multiple: false)
      case "lanes": return try parseLane(multiple: true)
      case "yield": throw error("'yield' outside a lane block")
      case "network": throw error("'network' may appear only once, at the top of the file")
      default: break
      }
    }
    return try parseAssign()
  }

  /// 'input' IDENT ':' shape
  mutating func parseInput() throws(DiagnosticError) -> Statement {
    advance()
    let name = try expectIdentifier("input name")
    try expectSymbol(":", "after the input name")
    let shapeLoc = token.location
    let shape = try parseShape()
    try endStatement()
    return .input(name: name, shape: shape, shapeLocation: shapeLoc)
  }

  /// shape := '[' dim { ',' dim } ']' ; dim := INT | 'N'
  mutating func parseShape() throws(DiagnosticError) -> [Dim] {
    try expectSymbol("[", "to start a shape")
    var dims: [Dim] = []
    repeat {
      if !dims.isEmpty { advance() }
      switch token.kind {
      case .integer(let n):
        guard n > 0 else { throw error("dimension must be positive, got \(n)") }
        guard n <= Int(Int32.max) else { throw error("dimension \(n) is too large (at most \(Int32.max))") }
        dims.append(.fixed(n)); advance()
      case .identifier("N"): dims.append(.batch); advance()
      default: throw error("expected a dimension (an integer or N), found \(token.spelling)")
      }
    } while isSymbol(",")
    try expectSymbol("]", "to close the shape")
    return dims
  }

  /// 'output' IDENT { ',' IDENT }
  mutating func parseOutput() throws(DiagnosticError) -> Statement {
    advance()
    var names = [try expectIdentifier("output name")]
    while isSymbol(",") { advance(); names.append(try expectIdentifier("output name")) }
    try endStatement()
    return .output(names)
  }

  /// 'lane' IDENT '{' { stmt } 'yield' IDENT '}' | 'lanes' IDENT '[' INT ']' '{' { stmt } 'yield' IDENT '}'
  mutating func parseLane(multiple: Bool) throws(DiagnosticError) -> Statement {
    let keywordLoc = token.location
    advance()
    let name = try expectIdentifier("lane name")
    var count: Int?
    if multiple {
      try expectSymbol("[", "before the number of lanes")
      let countLoc = token.location
      let n = try expectInteger("the number of lanes")
      guard n >= 1 else { throw error("number of lanes must be at least 1, got \(n)", at: countLoc) }
      guard n <= Parser.maxLanes else {
        throw error("number of lanes must be at most \(Parser.maxLanes), got \(n)", at: countLoc)
      }
      count = n
      try expectSymbol("]", "after the number of lanes")
    }
    try expectSymbol("{", "to open the lane block")
    var body: [Statement] = []
    skipNewlines()
    while true {
      if token.kind == .endOfFile {
        throw error("lane block '\(name.text)' is not closed: expected 'yield NAME' and '}'", at: keywordLoc)
      }
      if isSymbol("}") {
        throw error("lane block '\(name.text)' has no 'yield': end it with 'yield NAME'")
      }
      if case .identifier(let word) = token.kind, tokens[position + 1].kind != .symbol("=") {
        if word == "yield" { break }
        if word == "input" || word == "output" { throw error("'\(word)' is not allowed inside a lane block") }
        if word == "lane" || word == "lanes" {
          body.append(try parseLane(multiple: word == "lanes"))
          skipNewlines()
          continue
        }
      }
      body.append(try parseAssign())
      skipNewlines()
    }
    advance()  // 'yield'
    let yielded = try expectIdentifier("the name of the value to yield")
    skipNewlines()
    guard isSymbol("}") else { throw error("expected '}' after 'yield \(yielded.text)', found \(token.spelling)") }
    advance()
    try endStatement()
    return .lane(name: name, count: count, body: body, yield: yielded)
  }

  /// IDENT '=' IDENT '(' [ arg { ',' arg } ] ')'
  mutating func parseAssign() throws(DiagnosticError) -> Statement {
    let name = try expectIdentifier("a statement")
    try expectSymbol("=", "after '\(name.text)'")
    let op = try expectIdentifier("an operator name")
    try expectSymbol("(", "after the operator name")
    var args: [CallArgument] = []
    if !isSymbol(")") {
      repeat {
        if !args.isEmpty { advance() }
        args.append(try parseArgument())
      } while isSymbol(",")
    }
    try expectSymbol(")", "to close the argument list")
    try endStatement()
    return .assign(name: name, op: op, arguments: args)
  }

  /// arg := IDENT | IDENT '=' value
  mutating func parseArgument() throws(DiagnosticError) -> CallArgument {
    let loc = token.location
    let key = try expectIdentifier("an argument")
    if isSymbol("=") {
      advance()
      return CallArgument(key: key.text, value: try parseValue(), location: loc)
    }
    return CallArgument(key: nil, value: Value(.identifier(key.text), at: loc), location: loc)
  }

  /// Limits that keep absurd input from exhausting time or the stack.
  public static let maxLanes = 4096
  public static let maxListDepth = 32

  /// value := ['-'] INT | ['-'] FLOAT | IDENT | STRING | '[' value { ',' value } ']'
  mutating func parseValue(depth: Int = 0) throws(DiagnosticError) -> Value {
    let loc = token.location
    switch token.kind {
    case .integer(let i): advance(); return Value(.int(i), at: loc)
    case .float(let f): advance(); return Value(.float(f), at: loc)
    case .identifier(let s): advance(); return Value(.identifier(s), at: loc)
    case .string(let s): advance(); return Value(.string(s), at: loc)
    case .symbol("-"):
      advance()
      switch token.kind {
      case .integer(let i): advance(); return Value(.int(-i), at: loc)
      case .float(let f): advance(); return Value(.float(-f), at: loc)
      default: throw error("expected a number after '-', found \(token.spelling)")
      }
    case .symbol("["):
      guard depth < Parser.maxListDepth else { throw error("lists nested more than \(Parser.maxListDepth) deep") }
      advance()
      var items: [Value] = []
      if isSymbol("]") { throw error("empty list") }
      repeat {
        if !items.isEmpty { advance() }
        items.append(try parseValue(depth: depth + 1))
      } while isSymbol(",")
      try expectSymbol("]", "to close the list")
      return Value(.list(items), at: loc)
    default:
      throw error("expected a value, found \(token.spelling)")
    }
  }
}

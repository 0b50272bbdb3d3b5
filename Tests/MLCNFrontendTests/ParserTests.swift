// Parser and lexer: the grammar of DESIGN.md section 2 and the located diagnostics.

import Foundation
import MLCNBase
import Testing
@testable import MLCNFrontend

private func parse(_ text: String) throws -> Program {
  try Parser.parse(SourceFile(path: "t.mlcn", text: text))
}

private func diagnostic(_ text: String) -> DiagnosticError? {
  do { _ = try parse(text); return nil } catch { return error as? DiagnosticError }
}

@Test func parsesEveryStatementKind() throws {
  let p = try parse("""
    # comment
    network demo
    input x: [N, 1, 28, 28]

    a = conv2d(x, filters=4, kernel=[3, 2], act=relu)   # trailing comment
    lane solo {
      b = relu(a)
      yield b
    }
    lanes L[3] {
      c = tanh(a)
      yield c
    }
    v = concat(solo, L, axis=-1)
    output v, a
    """)
  #expect(p.name.text == "demo")
  #expect(p.statements.count == 6)
  guard case .input(let name, let shape, _) = p.statements[0] else { Issue.record("not an input"); return }
  #expect(name.text == "x")
  #expect(shape == [.batch, .fixed(1), .fixed(28), .fixed(28)])
  guard case .assign(_, let op, let args) = p.statements[1] else { Issue.record("not an assign"); return }
  #expect(op.text == "conv2d")
  #expect(args.map(\.key) == [nil, "filters", "kernel", "act"])
  #expect(args[2].value.kind == .list([Value(.int(3), at: SourceLocation(line: 5, column: 34)),
                                       Value(.int(2), at: SourceLocation(line: 5, column: 37))]))
  guard case .lane(let lname, let count, let body, let y) = p.statements[3] else { Issue.record("not lanes"); return }
  #expect(lname.text == "L" && count == 3 && body.count == 1 && y.text == "c")
  guard case .assign(_, _, let cargs) = p.statements[4] else { return }
  #expect(cargs[2].value.kind == .int(-1))
  guard case .output(let outs) = p.statements[5] else { Issue.record("not output"); return }
  #expect(outs.map(\.text) == ["v", "a"])
}

@Test func numbersStringsAndLocations() throws {
  var lexer = Lexer(SourceFile(path: "t", text: "a = f(x, r=1.5e-3, s=\"hi\")\n"))
  let kinds = try lexer.tokenize().map(\.kind)
  #expect(kinds.contains(.float(1.5e-3)))
  #expect(kinds.contains(.string("hi")))
  let tokens = try Lexer(SourceFile(path: "t", text: "\n\n  b = g()")).tokenizeCopy()
  #expect(tokens.first?.location == SourceLocation(line: 3, column: 3))
}

extension Lexer {
  func tokenizeCopy() throws -> [Token] { var l = self; return try l.tokenize() }
}

@Test(arguments: [
  ("", 1, 1, "empty file"),
  ("# only a comment\n", 2, 1, "empty file"),
  ("input x: [N, 3]\n", 1, 1, "expected 'network NAME'"),
  ("network n\na = relu(x\n", 2, 11, "expected ')'"),
  ("network n\na relu(x)\n", 2, 3, "expected '=' after 'a'"),
  ("network n\na = relu(x) b\n", 2, 13, "expected end of line"),
  ("network n\na = relu(x, $)\n", 2, 13, "unexpected character '$'"),
  ("network n\na = f(x, s=\"abc)\n", 2, 12, "unterminated string"),
  ("network n\nlane A {\n  a = relu(x)\n}\n", 4, 1, "has no 'yield'"),
  ("network n\nlanes L[0] {\n", 2, 9, "at least 1"),
  ("network n\nyield x\n", 2, 1, "'yield' outside a lane block"),
  ("network n\ninput x: [N, 0]\n", 2, 14, "dimension must be positive"),
  ("network n\nlane A {\n  input z: [N, 2]\n", 3, 3, "'input' is not allowed inside a lane block"),
  ("network n\na = f(x, k=[])\n", 2, 13, "empty list"),
])
func syntaxErrorsAreLocated(text: String, line: Int, column: Int, message: String) {
  guard let d = diagnostic(text) else { Issue.record("no error for \(text.debugDescription)"); return }
  #expect(d.diagnostic.location == SourceLocation(line: line, column: column), "\(d)")
  #expect(d.diagnostic.message.contains(message), "\(d)")
}

@Test func diagnosticRendersLineAndCaret() {
  let d = diagnostic("network n\na = relu(x, $)\n")!
  #expect(d.description == """
    t.mlcn:2:13: error: unexpected character '$'
    a = relu(x, $)
                ^
    """)
}

@Test func crlfLinesAndTabsAreHandled() throws {
  let p = try parse("network n\r\ninput x: [N, 2]\r\n\ty = relu(x)\r\noutput y\r\n")
  #expect(p.statements.count == 3)
  let d = diagnostic("network n\r\n\ty = relu(x) z\r\n")!
  #expect(d.diagnostic.location == SourceLocation(line: 2, column: 14))
  #expect(d.description.hasSuffix("\n\ty = relu(x) z\n\t            ^"))
}

// Found by fuzzing the frontend with large inputs (Tests/fuzz/regressions/frontend): the
// bad byte of a non-UTF-8 file was searched for by decoding ever longer prefixes, which
// took 25 s on a 1 MB file and could stop inside a valid multi-byte character.
@Test func invalidUTF8IsLocatedInOnePass() throws {
  var d = Data("network n # ".utf8) + Data(String(repeating: "é", count: 100).utf8) + Data([0xFF, 0x0A])
  #expect { _ = try SourceFile.decode(d, path: "a.mlcn") } throws: {
    ($0 as? DiagnosticError)?.description.hasPrefix("a.mlcn:1:113: error: not a UTF-8 text file (invalid byte 0xff at offset 212)") == true
  }
  d = Data(String(repeating: "# c\n", count: 250_000).utf8) + Data([0xE2, 0x82])
  let start = Date()
  #expect { _ = try SourceFile.decode(d, path: "big.mlcn") } throws: {
    ($0 as? DiagnosticError)?.description.hasPrefix("big.mlcn:250001:1: error: not a UTF-8 text file (invalid byte 0xe2 at offset 1000000)") == true
  }
  #expect(Date().timeIntervalSince(start) < 5)
  #expect(SourceFile.firstInvalidUTF8Offset(Data([0x61, 0xED, 0xA0, 0x80])) == 1)  // a surrogate
  #expect(SourceFile.firstInvalidUTF8Offset(Data([0x61, 0xF0, 0x9F, 0x98, 0x80, 0xC0])) == 5)  // emoji, then 0xC0
}

// Checked arithmetic for sizes read from files and source: a damaged header or a huge
// shape must give an error, never an overflow trap.

/// Sizes mlcnc accepts: kernels index tensors with 32-bit integers.
public enum Limits {
  public static let maxInteger = Int(Int32.max)
  public static let maxElements = Int(Int32.max)
}

/// The product of `values`, or nil on overflow.
public func checkedProduct<S: Sequence>(_ values: S) -> Int? where S.Element == Int {
  var p = 1
  for v in values {
    let (r, overflow) = p.multipliedReportingOverflow(by: v)
    if overflow { return nil }
    p = r
  }
  return p
}

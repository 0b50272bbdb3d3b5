// The numerics tests' comparison must fail on outputs a broken kernel produces: NaN
// anywhere (a plain `.max()` of the errors skips a NaN unless it comes first),
// infinities where a finite value is expected, and tensors of the wrong size.

import Testing
import MLCNFormats

private func t(_ data: [Float]) -> HostTensor { HostTensor(shape: [data.count], data: data) }

@Test func comparisonPassesCloseOutputs() {
  let c = TestSupport.compare(t([1, 2, 3]), t([1, 2.0001, 3]))
  #expect(c.ok, "\(c)")
  #expect(abs(c.error - 0.0001) < 1e-6)
  #expect(abs(c.tolerance - 1e-4 * 4) < 1e-9)
  #expect(!TestSupport.compare(t([1, 2, 3.01]), t([1, 2, 3])).ok, "an error of 0.01 exceeds 4e-4")
}

@Test(arguments: [0, 1, 3])
func comparisonFailsOnNaN(at index: Int) {
  var got: [Float] = [0.5, -1, 2, 0.25]
  got[index] = .nan
  let c = TestSupport.compare(t(got), t([0.5, -1, 2, 0.25]))
  #expect(!c.ok, "a NaN at index \(index) passed: \(c)")
  #expect(c.nonFinite == 1 && c.firstBad?.index == index)
  #expect(c.description.contains("non-finite"))
}

@Test func comparisonFailsOnANaNExpectedValue() {
  #expect(!TestSupport.compare(t([1, .nan]), t([1, .nan])).ok)
  #expect(!TestSupport.compare(t([1, 2]), t([1, .nan])).ok)
}

@Test func comparisonFailsOnInfinitiesWhereFiniteIsExpected() {
  #expect(!TestSupport.compare(t([1, .infinity]), t([1, 2])).ok)
  #expect(!TestSupport.compare(t([-.infinity, 2]), t([1, 2])).ok)
  // An expected infinity must be matched exactly, and must not widen the tolerance.
  #expect(TestSupport.compare(t([1, .infinity]), t([1, .infinity])).ok)
  #expect(!TestSupport.compare(t([1, -.infinity]), t([1, .infinity])).ok)
  #expect(!TestSupport.compare(t([1, 1e30]), t([1, .infinity])).ok)
  let c = TestSupport.compare(t([1.5, .infinity]), t([1, .infinity]))
  #expect(!c.ok && c.tolerance == 1e-4 * 2, "\(c)")
}

@Test func comparisonFailsOnShapeMismatch() {
  // zip() would compare only the common prefix.
  #expect(!TestSupport.compare(t([1, 2, 3]), t([1, 2])).ok)
  #expect(!TestSupport.compare(HostTensor(shape: [2, 1], data: [1, 2]), t([1, 2])).ok)
}

// Buffer reuse by liveness, on hand-made lifetimes whose answer is known.

import Testing
import MLCNGraph

@Test func buffersNeverAliveTogetherShareMemory() {
  // a [0,1] and c [2,3] do not overlap: c takes a's slot. b [1,2] overlaps both.
  // d [4,4] fits in b's slot (the smallest free one that holds it). p is pinned.
  let l = [Lifetime(device: 0, bytes: 100, first: 0, last: 1, pinned: false),
           Lifetime(device: 0, bytes: 40, first: 1, last: 2, pinned: false),
           Lifetime(device: 0, bytes: 80, first: 2, last: 3, pinned: false),
           Lifetime(device: 0, bytes: 30, first: 4, last: 4, pinned: false),
           Lifetime(device: 0, bytes: 10, first: 0, last: 0, pinned: true)]
  let (slot, slots) = MemoryPlanning.assign(l)
  #expect(slot[2] == slot[0] && slot[3] == slot[1] && slot[0] != slot[1] && slot[4] != slot[0] && slot[4] != slot[1])
  #expect(MemoryPlanning.bytesPerDevice(l, devices: 1) == [150])
  // A buffer that ends where another starts overlaps it (inputs and outputs of one node).
  let touching = [Lifetime(device: 0, bytes: 8, first: 0, last: 1, pinned: false),
                  Lifetime(device: 0, bytes: 8, first: 1, last: 1, pinned: false)]
  #expect(MemoryPlanning.bytesPerDevice(touching, devices: 1) == [16])
  // Devices never share; a free slot too small grows to fit.
  let two = [Lifetime(device: 0, bytes: 8, first: 0, last: 0, pinned: false),
             Lifetime(device: 1, bytes: 8, first: 1, last: 1, pinned: false),
             Lifetime(device: 0, bytes: 20, first: 2, last: 2, pinned: false)]
  #expect(MemoryPlanning.bytesPerDevice(two, devices: 2) == [20, 8])
  #expect(slots.count == 3)
}

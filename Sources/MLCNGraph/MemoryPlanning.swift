// Buffer reuse by liveness: buffers of one device that are never alive at the same time
// share memory. The planner's memory model and the kernel program both describe their
// buffers as lifetimes and call this one function, so they agree to the byte.
//
// Algorithm:
//  1. Lifetimes are in node order (the order each device's in-order queue runs them): a
//     buffer is alive from the node that first writes it to the last node that reads it.
//     Buffers the host writes or reads (inputs, parameters, outputs) and buffers another
//     device reads are pinned: they keep their own memory.
//  2. Take buffers by first use (then by their order in the list). A slot whose occupant
//     died before this first use is free; take the free slot of the smallest size that
//     fits, else the largest free slot (grown), else a new slot.
//  3. A device needs the sum of its slots.

public struct Lifetime: Hashable, Sendable {
  public var device: Int
  public var bytes: Int
  public var first: Int
  public var last: Int
  public var pinned: Bool
  public init(device: Int, bytes: Int, first: Int, last: Int, pinned: Bool) {
    self.device = device
    self.bytes = bytes
    self.first = first
    self.last = last
    self.pinned = pinned
  }
}

public enum MemoryPlanning {
  /// The slot of each buffer and each slot's device and size.
  public static func assign(_ buffers: [Lifetime]) -> (slot: [Int], slots: [(device: Int, bytes: Int)]) {
    var slot = Array(repeating: -1, count: buffers.count)
    var slots: [(device: Int, bytes: Int)] = []
    var freeAfter: [Int] = []  // per slot: the last node of its current occupant (Int.max: pinned)
    let order = buffers.indices.sorted { (buffers[$0].first, $0) < (buffers[$1].first, $1) }
    for i in order {
      let b = buffers[i]
      if !b.pinned {
        let free = slots.indices.filter { slots[$0].device == b.device && freeAfter[$0] < b.first }
        let fitting = free.filter { slots[$0].bytes >= b.bytes }
        if let s = fitting.min(by: { (slots[$0].bytes, $0) < (slots[$1].bytes, $1) })
          ?? free.max(by: { (slots[$0].bytes, $1) < (slots[$1].bytes, $0) }) {
          slots[s].bytes = max(slots[s].bytes, b.bytes)
          freeAfter[s] = b.last
          slot[i] = s
          continue
        }
      }
      slots.append((b.device, b.bytes))
      freeAfter.append(b.pinned ? Int.max : b.last)
      slot[i] = slots.count - 1
    }
    return (slot, slots)
  }

  /// Bytes per device of the slots (`devices` entries).
  public static func bytesPerDevice(_ buffers: [Lifetime], devices: Int) -> [Int] {
    var used = Array(repeating: 0, count: devices)
    for s in assign(buffers).slots { used[s.device] += s.bytes }
    return used
  }
}
